"""axe-core (npm) for the accessibility checks in Chromium: `npm ci` here installs it."""

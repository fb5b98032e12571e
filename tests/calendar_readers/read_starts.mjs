// Reads an iCalendar file on stdin with ical.js (the parser inside Mozilla Thunderbird) and
// prints {UID: start as Unix seconds} as JSON. The file's own VTIMEZONE blocks are registered
// first, as Thunderbird does for zones it meets in a file, so the blocks are what decides.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const root = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));

ICAL.TimezoneService.reset();
for (const block of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(block);
}
const starts = {};
for (const vevent of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(vevent);
  starts[event.uid] = event.startDate.toUnixTime();
}
process.stdout.write(JSON.stringify(starts));

"""Platform text kit: TLP 2.0 labels and sharing rules, and the Markdown every feature renders."""

-- Incidents, containment decisions and imported advisories are read from the ledger
-- itself (folded by ailedger_core::incident::Book): the entries of those kinds, by seq.
CREATE INDEX entries_incidents ON entries (seq)
    WHERE kind IN ('incident', 'containment', 'advisory');

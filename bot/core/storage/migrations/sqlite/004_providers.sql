-- Which provider served each settled job (none for jobs settled before providers were recorded).
ALTER TABLE usage_ledger ADD COLUMN provider TEXT;

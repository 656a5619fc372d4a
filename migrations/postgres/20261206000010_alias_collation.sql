-- Alias prefix scans (`model:foo` → its one version) are range scans,
-- `alias >= p AND alias < p || U+10FFFF`, which mean "starts with p" only in byte
-- order. Under a database's locale collation `model:Foo@2` sorts inside the range of
-- `model:foo@`, so the column compares in byte order whatever the database's locale,
-- as SQLite's BINARY does; its primary-key index is rebuilt in that order.
ALTER TABLE aliases ALTER COLUMN alias TYPE TEXT COLLATE "C";

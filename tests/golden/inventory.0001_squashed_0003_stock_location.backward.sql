-- Reverse inventory.0001_squashed_0003_stock_location
-- Direction: backward
-- Database:  sqlite_scratch (SQLite X.Y.Z)
-- Generated: 2026-01-01T00:00:00+00:00 by handmig X.Y.Z, Django X.Y.Z
-- Run it:    sqlite3 <tmp>/scratch.sqlite3 < SCRIPT.sql
-- It stops at the first error by itself, and each migration begins with a
-- guard: run twice, it stops at the first guard and changes nothing.
-- Migration: inventory.0001_squashed_0003_stock_location
-- File:      samples/inventory/migrations/0001_squashed_0003_stock_location.py
-- SHA-256:   5a4531da4801e6dafd76145d1a55a107dc5628b8e7f1e8210d28f83587c3f972
--
-- Back up first, in a shell, before you run this script:
--   sqlite3 <tmp>/scratch.sqlite3 '.dump inventory_stock' > inventory_stock.sql
--   sqlite3 <tmp>/scratch.sqlite3 '.dump inventory_warehouse' > inventory_warehouse.sql

.bail on


-- Preflight: Confirm that inventory.0001_squashed_0003_stock_location is
-- recorded as applied. Expect 4 row(s): inventory.0001_initial,
-- inventory.0002_stock, inventory.0003_stock_location,
-- inventory.0001_squashed_0003_stock_location.
SELECT "app", "name", "applied" FROM "django_migrations" WHERE ("app" = 'inventory' AND "name" = '0001_initial') OR ("app" = 'inventory' AND "name" = '0002_stock') OR ("app" = 'inventory' AND "name" = '0003_stock_location') OR ("app" = 'inventory' AND "name" = '0001_squashed_0003_stock_location') ORDER BY "id";

-- Preflight: Confirm that no migration depending on it is applied. Expect no
-- rows.
SELECT "app", "name", "applied" FROM "django_migrations" WHERE "app" = 'inventory' AND "name" = '0004_stock_quantity_location_idx' ORDER BY "id";

-- Turn off foreign key enforcement for this session. Django's SQLite schema
-- editor does the same: tables are rebuilt while other tables still point at
-- them. It has no effect inside a transaction, so run it first.
PRAGMA foreign_keys = OFF;

-- Migration 1 of 1: inventory.0001_squashed_0003_stock_location
-- Guard: stop unless inventory.0001_squashed_0003_stock_location is recorded
-- as applied.
CREATE TEMP TABLE IF NOT EXISTS "handmig_guard_9a504ced1b" ("ok" integer CONSTRAINT "handmig guard: inventory.0001_squashed_0003_stock_location is not recorded as applied, so it was not reversed again; this script has run before, or the database changed. Generate the runbook again." CHECK ("ok"));
INSERT INTO "handmig_guard_9a504ced1b" SELECT NOT (NOT ((SELECT COUNT(*) FROM (SELECT DISTINCT "app", "name" FROM "django_migrations" WHERE ("app" = 'inventory' AND "name" = '0001_initial') OR ("app" = 'inventory' AND "name" = '0002_stock') OR ("app" = 'inventory' AND "name" = '0003_stock_location')) "recorded") = 3));

-- Back up first (done before this script, see the top): sqlite3 <tmp>/scratch.sqlite3 '.dump inventory_stock' > inventory_stock.sql
-- Back up first (done before this script, see the top): sqlite3 <tmp>/scratch.sqlite3 '.dump inventory_warehouse' > inventory_warehouse.sql

BEGIN;

-- [2/2] Create model Stock (CreateModel)
-- INFO [data-loss]: This step drops table inventory_stock, which is empty on
-- this database.
-- DANGER [drop-table]: DROP TABLE destroys the table and its data. Safer: Back
-- it up first (see the backup command).
DROP TABLE "inventory_stock";
-- verify: table inventory_stock is gone (expect 0)
-- SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'inventory_stock';

-- [1/2] Create model Warehouse (CreateModel)
-- INFO [data-loss]: This step drops table inventory_warehouse, which is empty
-- on this database.
-- DANGER [drop-table]: DROP TABLE destroys the table and its data. Safer: Back
-- it up first (see the backup command).
DROP TABLE "inventory_warehouse";
-- verify: table inventory_warehouse is gone (expect 0)
-- SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'inventory_warehouse';

-- Bookkeeping: remove the migration's record.
DELETE FROM "django_migrations" WHERE ("app" = 'inventory' AND "name" = '0001_initial') OR ("app" = 'inventory' AND "name" = '0002_stock') OR ("app" = 'inventory' AND "name" = '0003_stock_location') OR ("app" = 'inventory' AND "name" = '0001_squashed_0003_stock_location');

COMMIT;

-- Verify: Check that every foreign key still points at a row, as Django's
-- SQLite schema editor does. Expect no rows.
PRAGMA foreign_key_check;

-- Verify: Confirm that inventory.0001_squashed_0003_stock_location is no
-- longer recorded. Expect no rows.
SELECT "app", "name", "applied" FROM "django_migrations" WHERE ("app" = 'inventory' AND "name" = '0001_initial') OR ("app" = 'inventory' AND "name" = '0002_stock') OR ("app" = 'inventory' AND "name" = '0003_stock_location') OR ("app" = 'inventory' AND "name" = '0001_squashed_0003_stock_location') ORDER BY "id";

-- Later: When convenient (usually with the next deploy), run 'python manage.py
-- migrate inventory zero --database sqlite_scratch'. It finds nothing to run,
-- but sends post_migrate, whose handlers do what this runbook does not.
-- Content types and permissions of inventory.Stock, inventory.Warehouse stay
-- behind; 'manage.py remove_stale_contenttypes' deletes them.
-- python manage.py migrate inventory zero --database sqlite_scratch

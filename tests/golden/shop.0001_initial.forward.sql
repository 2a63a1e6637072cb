-- Apply shop.0001_initial
-- Direction: forward
-- Database:  sqlite_scratch (SQLite X.Y.Z)
-- Generated: 2026-01-01T00:00:00+00:00 by handmig X.Y.Z, Django X.Y.Z
-- Run it:    sqlite3 <tmp>/scratch.sqlite3 < SCRIPT.sql
-- It stops at the first error by itself, and each migration begins with a
-- guard: run twice, it stops at the first guard and changes nothing.
-- Migration: shop.0001_initial
-- File:      samples/shop/migrations/0001_initial.py
-- SHA-256:   f6e2f632ee484be1dae7e858bb0b83bc8eb8588626356c4b67a805c71acfa2ff
--
-- WARNING: The SQLite file <tmp>/scratch.sqlite3 does
-- not exist: the runbook is for an empty database.

.bail on


-- Preflight: Confirm that django_migrations does not exist yet. Expect no
-- rows.
SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations';

-- Turn off foreign key enforcement for this session. Django's SQLite schema
-- editor does the same: tables are rebuilt while other tables still point at
-- them. It has no effect inside a transaction, so run it first.
PRAGMA foreign_keys = OFF;

-- Create django_migrations, as migrate does on a new database.
-- django_migrations did not exist when the runbook was generated.
CREATE TEMP TABLE IF NOT EXISTS "handmig_guard_211b21c5fb" ("ok" integer CONSTRAINT "handmig guard: django_migrations exists already, so it was not created again; this script has run before, or migrate has. Generate the runbook again." CHECK ("ok"));
INSERT INTO "handmig_guard_211b21c5fb" SELECT NOT (EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'));
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);

-- Migration 1 of 1: shop.0001_initial
-- Guard: stop unless shop.0001_initial is still to apply.
CREATE TEMP TABLE IF NOT EXISTS "handmig_guard_0b104532cc" ("ok" integer CONSTRAINT "handmig guard: shop.0001_initial is already recorded as applied, so it was not run again; this script has run before, or the database changed. Generate the runbook again." CHECK ("ok"));
INSERT INTO "handmig_guard_0b104532cc" SELECT NOT (EXISTS (SELECT 1 FROM "django_migrations" WHERE "app" = 'shop' AND "name" = '0001_initial'));


BEGIN;

-- [1/3] Create model Author (CreateModel)
CREATE TABLE "shop_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL, "email" varchar(254) NOT NULL UNIQUE);
-- verify: table shop_author exists (expect 1)
-- SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'shop_author';

-- [2/3] Create model Tag (CreateModel)
CREATE TABLE "shop_tag" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL);
-- verify: table shop_tag exists (expect 1)
-- SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'shop_tag';

-- [3/3] Create model Book (CreateModel)
CREATE TABLE "shop_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "published" date NULL, "author_id" bigint NOT NULL REFERENCES "shop_author" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "shop_book_tags" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "book_id" bigint NOT NULL REFERENCES "shop_book" ("id") DEFERRABLE INITIALLY DEFERRED, "tag_id" bigint NOT NULL REFERENCES "shop_tag" ("id") DEFERRABLE INITIALLY DEFERRED);
-- verify: table shop_book exists (expect 1)
-- SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'shop_book';
-- verify: table shop_book_tags exists (expect 1)
-- SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'shop_book_tags';

-- Deferred SQL: Django runs it at the end of the migration.
-- queued by operation 3: Create model Book
CREATE INDEX "shop_book_author_id_82b8ab51" ON "shop_book" ("author_id");
-- queued by operation 3: Create model Book
CREATE INDEX "shop_book_title_idx" ON "shop_book" ("title");
-- queued by operation 3: Create model Book
CREATE UNIQUE INDEX "shop_book_tags_book_id_tag_id_870e5de6_uniq" ON "shop_book_tags" ("book_id", "tag_id");
-- queued by operation 3: Create model Book
CREATE INDEX "shop_book_tags_book_id_00064ef8" ON "shop_book_tags" ("book_id");
-- queued by operation 3: Create model Book
CREATE INDEX "shop_book_tags_tag_id_c7a5d3dd" ON "shop_book_tags" ("tag_id");

-- Bookkeeping: record the migration as applied.
INSERT INTO "django_migrations" ("app", "name", "applied") SELECT 'shop', '0001_initial', STRFTIME('%Y-%m-%d %H:%M:%f', 'now') WHERE NOT EXISTS (SELECT 1 FROM "django_migrations" WHERE "app" = 'shop' AND "name" = '0001_initial');

COMMIT;

-- Verify: Check that every foreign key still points at a row, as Django's
-- SQLite schema editor does. Expect no rows.
PRAGMA foreign_key_check;

-- Verify: Confirm that shop.0001_initial is recorded as applied. Expect 1
-- row(s): shop.0001_initial.
SELECT "app", "name", "applied" FROM "django_migrations" WHERE "app" = 'shop' AND "name" = '0001_initial' ORDER BY "id";

-- Later: When convenient (usually with the next deploy), run 'python manage.py
-- migrate shop 0001_initial --database sqlite_scratch'. It finds nothing to
-- run, but sends post_migrate, whose handlers do what this runbook does not.
-- Content types and permissions appear then for: shop.Author, shop.Book,
-- shop.Tag.
-- python manage.py migrate shop 0001_initial --database sqlite_scratch

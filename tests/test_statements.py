"""Splitting collected SQL into statements (trap 7) and naming them."""

import pytest

from handmig import statements


@pytest.mark.parametrize(
    "chunk,expected",
    [
        # PostgreSQL RunSQL arrives as one blob.
        (
            "UPDATE a SET x = 1;\nUPDATE b SET y = 2;",
            ["UPDATE a SET x = 1;", "UPDATE b SET y = 2;"],
        ),
        # Schema editor templates with two statements on one line.
        (
            'SET CONSTRAINTS "fk" IMMEDIATE; ALTER TABLE "t" DROP CONSTRAINT "fk";',
            [
                'SET CONSTRAINTS "fk" IMMEDIATE;',
                'ALTER TABLE "t" DROP CONSTRAINT "fk";',
            ],
        ),
        # A semicolon inside a string literal is not a boundary.
        ("INSERT INTO t VALUES ('a;b')", ["INSERT INTO t VALUES ('a;b');"]),
        # Dollar-quoted function bodies stay whole.
        (
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;",
            [
                "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;"
            ],
        ),
        # A trailing comment is not a statement.
        ("CREATE TABLE t (a int);\n-- done", ["CREATE TABLE t (a int);"]),
        # A missing terminator is added, after a trailing line comment too.
        ("DROP TABLE t", ["DROP TABLE t;"]),
        ("DROP TABLE t -- bye", ["DROP TABLE t -- bye\n;"]),
        ("", []),
    ],
)
def test_split(chunk, expected):
    assert statements.split(chunk) == expected


@pytest.mark.parametrize(
    "sql,verb",
    [
        ('CREATE TABLE "t" ("a" int);', "CREATE TABLE"),
        ('CREATE UNIQUE INDEX "i" ON "t" ("a");', "CREATE UNIQUE INDEX"),
        ('ALTER TABLE "t" ADD COLUMN "b" int NULL;', "ALTER TABLE"),
        ("INSERT INTO t VALUES (1);", "INSERT"),
        ("PRAGMA foreign_keys = OFF;", "PRAGMA"),
        ('SET CONSTRAINTS "fk" IMMEDIATE;', "SET CONSTRAINTS"),
    ],
)
def test_verb(sql, verb):
    assert statements.verb(sql) == verb

"""Splitting collected SQL into statements (trap 7) and naming them.

Every statement migrate would execute comes out whole: the splitter reads
quotes, comments and compound statements as the vendor does (PostgreSQL's
nested comments and dollar quotes, MySQL's # comments and BEGIN ... END
bodies), and without a vendor as sqlparse does where vendors disagree.
"""

import re
import sqlite3

import pytest

from handmig import statements
from tests.schema import (
    BACKENDS,
    create_database,
    drop_database,
    run_script,
    selected_backends,
    server_settings,
)
from tests.settings import database_name


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
        ("DROP TABLE t /* bye */", ["DROP TABLE t /* bye */;"]),
        ("", []),
        # An empty statement executes nothing: not a step.
        (";", []),
        ("SELECT 1;;SELECT 2", ["SELECT 1;", "SELECT 2;"]),
        # A comment on the line of the ';' goes with the statement before it,
        # a comment on a line of its own with the statement after it.
        (
            "SELECT 1; -- one\n-- about two\nSELECT 2;",
            ["SELECT 1; -- one", "-- about two\nSELECT 2;"],
        ),
        ("SELECT 1 -- x;y\n; SELECT 2;", ["SELECT 1 -- x;y\n;", "SELECT 2;"]),
    ],
)
def test_split(chunk, expected):
    assert statements.split(chunk) == expected


# (vendors the case holds for, chunk, statements). None: no vendor known.
ALL = (None, "postgresql", "mysql", "sqlite")
SPLIT_CASES = {
    # PostgreSQL nests block comments: the first */ does not end this one.
    "nested_comment_is_one_comment": (
        (None, "postgresql"),
        "/* a /* b ; */ c ; */ SELECT 1;",
        ["/* a /* b ; */ c ; */ SELECT 1;"],
    ),
    "nested_comment_between_statements": (
        (None, "postgresql"),
        "SELECT 1; /* a /* b ; */ c ; */ SELECT 2;",
        ["SELECT 1;", "/* a /* b ; */ c ; */ SELECT 2;"],
    ),
    # MySQL and SQLite do not nest: the first */ ends the comment.
    "flat_comment_ends_at_the_first_close": (
        (None, "mysql", "sqlite"),
        "/* a /* b */ SELECT 1; /* c */ SELECT 2;",
        ["/* a /* b */ SELECT 1;", "/* c */ SELECT 2;"],
    ),
    "dollar_quote_with_a_tag": (
        (None, "postgresql"),
        "CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN RETURN 1; END; $fn$ "
        "LANGUAGE plpgsql; SELECT 2;",
        [
            "CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN RETURN 1; END; $fn$ "
            "LANGUAGE plpgsql;",
            "SELECT 2;",
        ],
    ),
    "dollar_quote_inside_another": (
        (None, "postgresql"),
        "CREATE FUNCTION f() RETURNS text AS $_$ BEGIN RETURN $$a;b$$; END $_$ "
        "LANGUAGE plpgsql; SELECT 2;",
        [
            "CREATE FUNCTION f() RETURNS text AS $_$ BEGIN RETURN $$a;b$$; END $_$ "
            "LANGUAGE plpgsql;",
            "SELECT 2;",
        ],
    ),
    "dollar_sign_in_a_name_is_no_quote": (
        (None, "postgresql"),
        "SELECT a$b$ FROM t; SELECT $1; SELECT 2;",
        ["SELECT a$b$ FROM t;", "SELECT $1;", "SELECT 2;"],
    ),
    "e_string_with_escaped_quote": (
        (None, "postgresql", "mysql"),
        "SELECT E'it\\'s; here'; SELECT 2;",
        ["SELECT E'it\\'s; here';", "SELECT 2;"],
    ),
    # standard_conforming_strings: a backslash is a character like any other.
    "standard_string_ends_in_backslash": (
        ("postgresql", "sqlite"),
        "SELECT 'C:\\'; SELECT 2;",
        ["SELECT 'C:\\';", "SELECT 2;"],
    ),
    "doubled_quote_in_a_string": (
        ALL,
        "SELECT 'it''s; fine'; SELECT 2;",
        ["SELECT 'it''s; fine';", "SELECT 2;"],
    ),
    "semicolon_in_a_quoted_identifier": (
        ALL,
        'SELECT "a;b", "c"";d" FROM t; SELECT 2;',
        ['SELECT "a;b", "c"";d" FROM t;', "SELECT 2;"],
    ),
    "semicolon_in_a_line_comment": (
        ALL,
        "SELECT 1 -- x; y\n; SELECT 2;",
        ["SELECT 1 -- x; y\n;", "SELECT 2;"],
    ),
    # psql keeps SQL-standard function bodies whole (PostgreSQL 14).
    "begin_atomic_body": (
        (None, "postgresql"),
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
        "SELECT CASE WHEN true THEN 2 END; END; SELECT 3;",
        [
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
            "SELECT CASE WHEN true THEN 2 END; END;",
            "SELECT 3;",
        ],
    ),
    "begin_opens_a_transaction": (
        ALL,
        "BEGIN; UPDATE t SET a = 1; COMMIT;",
        ["BEGIN;", "UPDATE t SET a = 1;", "COMMIT;"],
    ),
    "begin_with_transaction_modes": (
        (None, "postgresql"),
        "BEGIN ISOLATION LEVEL SERIALIZABLE; UPDATE t SET a = 1; COMMIT;",
        ["BEGIN ISOLATION LEVEL SERIALIZABLE;", "UPDATE t SET a = 1;", "COMMIT;"],
    ),
    "semicolons_in_parentheses": (
        (None, "postgresql"),
        "CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2); SELECT 3;",
        [
            "CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2);",
            "SELECT 3;",
        ],
    ),
    # On PostgreSQL # is an operator (bitwise XOR), not a comment.
    "hash_is_an_operator_on_postgresql": (
        ("postgresql",),
        "SELECT 5 # 3; SELECT 2;",
        ["SELECT 5 # 3;", "SELECT 2;"],
    ),
    # MySQL: # starts a comment, with or without a space after it.
    "hash_comment": (
        ("mysql",),
        "SELECT 1 #x;y\n; SELECT 2 # z;\n;",
        ["SELECT 1 #x;y\n;", "SELECT 2 # z;\n;"],
    ),
    # MySQL: -- is a comment only when a space follows.
    "double_dash_without_space_is_minus_minus": (
        ("mysql",),
        "SELECT 1--1;\nSELECT 2;",
        ["SELECT 1--1;", "SELECT 2;"],
    ),
    "backtick_identifier": (
        (None, "mysql", "sqlite"),
        "SELECT `a;b`, `c``;d` FROM t; SELECT 2;",
        ["SELECT `a;b`, `c``;d` FROM t;", "SELECT 2;"],
    ),
    "backslash_escapes_in_mysql_strings": (
        (None, "mysql"),
        "SELECT 'a\\'; b', \"c\\\"; d\"; SELECT 2;",
        ["SELECT 'a\\'; b', \"c\\\"; d\";", "SELECT 2;"],
    ),
    "square_bracket_identifier": (
        (None, "sqlite"),
        "SELECT [a;b] FROM t; SELECT 2;",
        ["SELECT [a;b] FROM t;", "SELECT 2;"],
    ),
    "trigger_with_if": (
        (None, "mysql"),
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a > 0 THEN "
        "SET NEW.b = 1; ELSEIF NEW.a < 0 THEN SET NEW.b = 2; END IF; END; SELECT 2;",
        [
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a > 0 THEN "
            "SET NEW.b = 1; ELSEIF NEW.a < 0 THEN SET NEW.b = 2; END IF; END;",
            "SELECT 2;",
        ],
    ),
    "trigger_with_nested_begin": (
        (None, "mysql"),
        "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t "
        "FOR EACH ROW BEGIN BEGIN SET NEW.b = 1; END; SET NEW.c = 2; END; SELECT 2;",
        [
            "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t "
            "FOR EACH ROW BEGIN BEGIN SET NEW.b = 1; END; SET NEW.c = 2; END;",
            "SELECT 2;",
        ],
    ),
    "trigger_body_is_a_bare_if": (
        (None, "mysql"),
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a THEN "
        "SET NEW.b = 1; END IF; SELECT 2;",
        [
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a THEN "
            "SET NEW.b = 1; END IF;",
            "SELECT 2;",
        ],
    ),
    # IF() the function and a CASE expression open no block.
    "if_function_and_case_expression_in_a_trigger": (
        (None, "mysql"),
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN "
        "SET NEW.a = IF (NEW.b, 1, 2); "
        "SET NEW.c = CASE WHEN NEW.d THEN IF(NEW.e, 3, 4) ELSE 5 END; END; SELECT 2;",
        [
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN "
            "SET NEW.a = IF (NEW.b, 1, 2); "
            "SET NEW.c = CASE WHEN NEW.d THEN IF(NEW.e, 3, 4) ELSE 5 END; END;",
            "SELECT 2;",
        ],
    ),
    "procedure_with_labelled_loops": (
        (None, "mysql"),
        "CREATE PROCEDURE p() lbl: BEGIN REPEAT SET @x = 1; UNTIL 1 END REPEAT; "
        "inner_loop: LOOP LEAVE lbl; END LOOP inner_loop; END lbl; SELECT 2;",
        [
            "CREATE PROCEDURE p() lbl: BEGIN REPEAT SET @x = 1; UNTIL 1 END REPEAT; "
            "inner_loop: LOOP LEAVE lbl; END LOOP inner_loop; END lbl;",
            "SELECT 2;",
        ],
    ),
    "procedure_with_case_statement_and_while": (
        (None, "mysql"),
        "CREATE DEFINER = CURRENT_USER PROCEDURE p(x INT) BEGIN DECLARE i INT; "
        "CASE x WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE; "
        "WHILE i < 3 DO SET i = i + 1; END WHILE; "
        "FOR j IN 1..3 DO SELECT j; END FOR; END; SELECT 3;",
        [
            "CREATE DEFINER = CURRENT_USER PROCEDURE p(x INT) BEGIN DECLARE i INT; "
            "CASE x WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE; "
            "WHILE i < 3 DO SET i = i + 1; END WHILE; "
            "FOR j IN 1..3 DO SELECT j; END FOR; END;",
            "SELECT 3;",
        ],
    ),
    "function_and_event": (
        (None, "mysql"),
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END;\n"
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; "
        "DELETE FROM u; END;",
        [
            "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END;",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; "
            "DELETE FROM u; END;",
        ],
    ),
    "handler_with_empty_block": (
        (None, "mysql"),
        "CREATE PROCEDURE p() BEGIN DECLARE CONTINUE HANDLER FOR SQLEXCEPTION "
        "BEGIN END; SELECT 1; END; SELECT 2;",
        [
            "CREATE PROCEDURE p() BEGIN DECLARE CONTINUE HANDLER FOR SQLEXCEPTION "
            "BEGIN END; SELECT 1; END;",
            "SELECT 2;",
        ],
    ),
    # MariaDB runs compound statements outside stored programs.
    "begin_not_atomic": (
        (None, "mysql"),
        "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END; SELECT 3;",
        ["BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;", "SELECT 3;"],
    ),
    "labelled_begin_not_atomic": (
        (None, "mysql"),
        "main: BEGIN NOT ATOMIC SELECT 1; LEAVE main; END main; SELECT 3;",
        ["main: BEGIN NOT ATOMIC SELECT 1; LEAVE main; END main;", "SELECT 3;"],
    ),
    "top_level_if": (
        (None, "mysql"),
        "IF @x IS NULL THEN SELECT 1; ELSE SELECT 2; END IF; SELECT 3;",
        ["IF @x IS NULL THEN SELECT 1; ELSE SELECT 2; END IF;", "SELECT 3;"],
    ),
    "words_of_compound_statements_as_names": (
        ("mysql",),
        "CREATE TABLE event (`begin` int, `end` int); ALTER TABLE t ADD trigger_at "
        "int; SELECT IF(a, 1, 2) FROM t; SELECT 2;",
        [
            "CREATE TABLE event (`begin` int, `end` int);",
            "ALTER TABLE t ADD trigger_at int;",
            "SELECT IF(a, 1, 2) FROM t;",
            "SELECT 2;",
        ],
    ),
    "begin_work": (
        ("mysql",),
        "BEGIN WORK; UPDATE t SET a = 1; COMMIT;",
        ["BEGIN WORK;", "UPDATE t SET a = 1;", "COMMIT;"],
    ),
    # SQLite triggers: BEGIN ... END with CASE ... END inside.
    "sqlite_trigger_with_case": (
        (None, "mysql", "sqlite"),
        "CREATE TEMP TRIGGER IF NOT EXISTS tr AFTER UPDATE OF v ON t\n"
        "WHEN NOT EXISTS (SELECT 1 FROM u; )\n"
        "BEGIN\n"
        "    UPDATE a SET x = CASE WHEN new.v = 1 THEN 2 END;\n"
        "    UPDATE b SET y = (CASE WHEN new.v = 2 THEN 5 END);\n"
        "END;\n"
        "SELECT 2;",
        [
            "CREATE TEMP TRIGGER IF NOT EXISTS tr AFTER UPDATE OF v ON t\n"
            "WHEN NOT EXISTS (SELECT 1 FROM u; )\n"
            "BEGIN\n"
            "    UPDATE a SET x = CASE WHEN new.v = 1 THEN 2 END;\n"
            "    UPDATE b SET y = (CASE WHEN new.v = 2 THEN 5 END);\n"
            "END;",
            "SELECT 2;",
        ],
    ),
    "sqlite_begin_immediate": (
        (None, "sqlite"),
        "BEGIN IMMEDIATE TRANSACTION; DELETE FROM t; END TRANSACTION;",
        ["BEGIN IMMEDIATE TRANSACTION;", "DELETE FROM t;", "END TRANSACTION;"],
    ),
}


def _split_cases():
    for name, (vendors, chunk, expected) in SPLIT_CASES.items():
        for vendor in vendors:
            yield pytest.param(vendor, chunk, expected, id=f"{name}-{vendor}")


@pytest.mark.parametrize("vendor,chunk,expected", list(_split_cases()))
def test_split_as_the_vendor_reads(vendor, chunk, expected):
    assert statements.split(chunk, vendor) == expected


# sqlparse's own splitter tests (tests/test_split.py, test_regressions.py):
# what it keeps together stays together without a vendor.
SQLPARSE_FUNCTION = """CREATE OR REPLACE FUNCTION foo(
    p_in1 VARCHAR
    , p_in2 INTEGER
) RETURNS INTEGER AS

  DECLARE
    v_foo INTEGER;
  BEGIN
      SELECT *
      FROM foo
      INTO v_foo;
      RETURN v_foo.id;
  END;"""
SQLPARSE_FUNCTION_PSQL = """CREATE FUNCTION doubledollarinbody(var1 text) RETURNS text
/* see issue277 */
LANGUAGE plpgsql
AS $_$
DECLARE
  str text;
  BEGIN
    str = $$'foo'$$||var1;
    execute 'select '||str into str;
    return str;
  END
$_$;"""
SQLPARSE_CASES = {
    "semicolon": ("select * from foo;select * from foo where bar = 'foo;bar';", 2),
    "backslash": ("select ''; select ''';", 2),
    "create_function": (SQLPARSE_FUNCTION, 1),
    "create_function_psql": (SQLPARSE_FUNCTION_PSQL, 1),
    "dashcomments": (
        "select * from user;\n--select * from host;\nselect * from user;\n"
        "select * -- foo;\nfrom foo;",
        3,
    ),
    "dashcomments_eol": ("select foo; -- comment\r\n", 1),
    "begintag": ("begin;\nupdate foo\n       set bar = 1;\ncommit;", 3),
    "dropif": ("DROP TABLE IF EXISTS FOO;\n\nSELECT * FROM BAR;", 2),
    "comment_with_umlaut": (
        "select * from foo;\n-- Testing an umlaut: ä\nselect * from bar;",
        2,
    ),
    "casewhen": (
        "SELECT case when val = 1 then 2 else null end as foo;\n"
        "comment on table actor is 'The actor table.';",
        2,
    ),
    "casewhen_procedure": (
        "create procedure procName()\nbegin\n  select case when column = 'value' "
        "then column else 0 end;\nend;\ncreate procedure procName()\nbegin\n"
        "  select 1;\nend;\n",
        2,
    ),
    "cursor_declare": ('DECLARE CURSOR "foo" AS SELECT 1;\nSELECT 2;', 2),
    "if_function": (
        "CREATE TEMPORARY TABLE tmp SELECT IF(a=1, a, b) AS o FROM one; "
        "SELECT t FROM two",
        2,
    ),
    "mysql_handler": (
        "create procedure proc1()\nbegin\n  declare handler for foo begin end;\n"
        "  select 1;\nend;\n\ncreate procedure proc2()\nbegin\n  select 1;\nend;\n",
        2,
    ),
    "if_exists_in_begin_end": (
        "CREATE TASK t1 AS\nBEGIN\n    CREATE OR REPLACE TABLE temp1;\n"
        "    DROP TABLE IF EXISTS temp1;\nEND;\nEXECUTE TASK t1;",
        2,
    ),
    "begin_end_semicolons": (
        "WITH\nFUNCTION meaning_of_life()\n  RETURNS tinyint\n  BEGIN\n"
        "    DECLARE a tinyint DEFAULT CAST(6 as tinyint);\n"
        "    RETURN a * 7;\n  END\nSELECT meaning_of_life();",
        1,
    ),
    "begin_transaction": (
        "BEGIN\nTRANSACTION;\nDELETE FROM a;\nINSERT INTO a SELECT 1;\n"
        "END\nTRANSACTION;",
        4,
    ),
    "anonymous_begin_end_for": (
        "\nBEGIN\n    SELECT 1;\n    FOR R DO\n        SELECT 1;\n    END FOR;\nEND;\n",
        1,
    ),
    "anonymous_begin_end_case_inline": (
        "\nBEGIN\n    SELECT 1;\n    IF 1 THEN\n"
        "        SELECT CASE WHEN 1 THEN 2 ELSE 3 END AS COUNT;\n    ELSE\n"
        "        SELECT 2;\n    END IF;\nEND;\n",
        1,
    ),
    "for_update_in_begin_end": (
        "\nBEGIN\n    SELECT * FROM foo FOR UPDATE;\n"
        "    SELECT * FROM bar FOR SHARE;\nEND;\nSELECT 3;\n",
        2,
    ),
    "multiple_for_loops_in_begin_end": (
        "\nBEGIN\n    FOR x IN select_query LOOP\n        SELECT 1;\n    END LOOP;\n"
        "    FOR y IN select_query LOOP\n        SELECT 2;\n    END LOOP;\n"
        "END;\nSELECT 3;\n",
        2,
    ),
    "procedural_case_end_case": (
        "\nBEGIN\n    CASE val\n        WHEN 1 THEN SELECT 'one';\n"
        "        ELSE SELECT 'other';\n    END CASE;\nEND;\nSELECT 3;\n",
        2,
    ),
    "standalone_for_update": ("SELECT * FROM foo FOR UPDATE; SELECT 3;", 2),
    "issue194_splitting_function": (
        "   CREATE FUNCTION a(x VARCHAR(20)) RETURNS VARCHAR(20)\n"
        "                BEGIN\n                 DECLARE y VARCHAR(20);\n"
        "                 IF (1 = 1) THEN\n                 SET x = y;\n"
        "                 END IF;\n                 RETURN x;\n"
        "                END;\n                SELECT * FROM a.b;",
        2,
    ),
    "issue485_split_multi": (
        "CREATE OR REPLACE RULE ruled_tab_2rules AS ON INSERT\n"
        "TO public.ruled_tab\nDO instead (\nselect 1;\nselect 2;\n);",
        1,
    ),
    "issue588_at_and_backticks": (
        "grant foo to user1@`myhost`; grant bar to user1@`myhost`;",
        2,
    ),
    "quotes_with_new_line": ('select "foo\nbar"', 1),
}


@pytest.mark.parametrize(
    "chunk,count", SQLPARSE_CASES.values(), ids=list(SQLPARSE_CASES)
)
def test_split_keeps_what_sqlparse_keeps(chunk, count):
    found = statements.split(chunk)
    assert len(found) == count, found
    # Nothing is lost or reordered: the statements are the chunk, in order.
    assert re.sub(r"[\s;]", "", "".join(found)) == re.sub(r"[\s;]", "", chunk)


def test_split_all_and_effects_take_the_vendor():
    chunk = "SELECT 'C:\\'; ALTER TABLE t ADD CONSTRAINT c UNIQUE (a);"
    split = statements.split_all([chunk], "postgresql", origin=3)
    assert [s.sql for s in split] == [
        "SELECT 'C:\\';",
        "ALTER TABLE t ADD CONSTRAINT c UNIQUE (a);",
    ]
    assert [s.origin for s in split] == [3, 3]
    assert statements.effects(chunk, vendor="postgresql") == [
        ("t", {"unique", "index"})
    ]
    # Read as MySQL, the backslash escapes the quote: one statement.
    assert len(statements.split_all([chunk], "mysql")) == 1


@pytest.mark.parametrize(
    "sql,needed",
    [
        ("SELECT 1;", False),
        ("SELECT 1", False),
        ("SELECT 1; -- done; really", False),
        ("SELECT 1; # done; really", False),
        ("INSERT INTO t VALUES ('a;b', \"c;d\", 'e\\';f');", False),
        ("SELECT `a;b` FROM t;", False),
        ("SELECT 1 /* a; b */;", False),
        ("SELECT 1 -- a; b\n;", False),
        ("SELECT 1 #a; b\n;", False),
        (
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; "
            "END;",
            True,
        ),
        (
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END",
            True,
        ),
        ("BEGIN NOT ATOMIC SELECT 1; END;", True),
        # The server runs the text of an executable comment: so does the
        # client cut it.
        ("/*!50003 SET @a = 1; SET @b = 2 */;", True),
        # One statement with no ';' inside: the client does not cut it.
        ("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;", False),
        # MySQL reads --x as minus minus x, not as a comment.
        ("SELECT 1--1; SELECT 2;", True),
    ],
)
def test_needs_delimiter(sql, needed):
    assert statements.needs_delimiter(sql) is needed


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


# Scripts whose statements only run whole: each statement of the split is
# executed on its own, as the runbook's steps are.
POSTGRESQL_SCRIPT = r"""
/* setup /* nested ; */ still a comment ; */
CREATE TABLE t (id int, "a;b" text);
CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN RETURN 1; END; $fn$ LANGUAGE plpgsql;
INSERT INTO t VALUES (1, E'it\'s; here'), (2, 'C:\'); -- done; really
CREATE FUNCTION g() RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT 1;
    SELECT CASE WHEN true THEN 2 END;
END;
INSERT INTO t SELECT f() + g(), 'sum'
"""
MARIADB_SCRIPT = """
CREATE TABLE t (id int, `a;b` varchar(20), n int);  # a comment; with a ';'
CREATE DEFINER = CURRENT_USER TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW
BEGIN
    IF NEW.id > 1 THEN
        SET NEW.n = 1; -- first; branch
    ELSE
        BEGIN SET NEW.n = 2; END;
    END IF;
    SET NEW.`a;b` = CASE WHEN NEW.id > 1 THEN 'x;y' ELSE IF(NEW.id = 1, 'one', 'z') END;
END;
CREATE PROCEDURE p() lbl: BEGIN
    REPEAT SET @x = 1; UNTIL 1 END REPEAT;
    LOOP LEAVE lbl; END LOOP;
END lbl;
BEGIN NOT ATOMIC
    CALL p();
    INSERT INTO t (id) VALUES (1);
    INSERT INTO t (id) VALUES (2);
END
"""
SQLITE_SCRIPT = """
CREATE TABLE t (id int, [a;b] text, n int);
CREATE TRIGGER t_ai AFTER INSERT ON t
BEGIN
    UPDATE t SET n = CASE WHEN new.id > 1 THEN 1 END WHERE id = new.id;
    UPDATE t SET [a;b] = 'C:\\' WHERE id = new.id;
END;
INSERT INTO t (id) VALUES (1), (2);
"""


def _mariadb_script(split):
    """Return ``split`` as the mariadb client runs it, DELIMITER where needed."""
    lines = []
    for sql in split:
        if statements.needs_delimiter(sql):
            lines += ["DELIMITER //", sql, "//", "DELIMITER ;"]
        else:
            lines.append(sql)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_split_statements_run_on_the_server(backend):
    # Not selected: skipped. Selected and unreachable: create_database fails.
    if backend not in selected_backends():
        pytest.skip(f"{backend} is not in HANDMIG_TEST_DATABASES")
    name = database_name(backend, "statements")
    create_database(backend, name)
    try:
        if backend == "postgresql":
            rows = _run_postgresql(server_settings(backend, name))
            assert rows == [(1, "it's; here"), (2, "C:\\"), (3, "sum")]
        elif backend == "mysql":
            rows = _run_mariadb(server_settings(backend, name))
            assert rows == [(1, "one", 2), (2, "x;y", 1)]
        else:
            rows = _run_sqlite(name)
            assert rows == [(1, "C:\\", None), (2, "C:\\", 1)]
    finally:
        drop_database(backend, name)


def _run_postgresql(settings):
    import psycopg

    split = statements.split(POSTGRESQL_SCRIPT, "postgresql")
    assert len(split) == 5, split
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
        autocommit=True,
        connect_timeout=10,
    ) as conn:
        for sql in split:
            # A prepared statement takes exactly one command: a piece that
            # is two, or half of one, fails here.
            conn.execute(sql, prepare=True)
        return conn.execute('SELECT id, "a;b" FROM t ORDER BY id').fetchall()


def _run_mariadb(settings):
    import MySQLdb

    split = statements.split(MARIADB_SCRIPT, "mysql")
    assert len(split) == 4, split
    assert [statements.needs_delimiter(sql) for sql in split] == [
        False,
        True,
        True,
        True,
    ]
    run_script("mysql", settings, _mariadb_script(split))
    conn = MySQLdb.connect(
        host=settings["HOST"],
        port=int(settings["PORT"]),
        user=settings["USER"],
        password=settings["PASSWORD"],
        database=settings["NAME"],
        connect_timeout=10,
    )
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT trigger_name FROM information_schema.triggers "
            "WHERE trigger_schema = DATABASE()"
        )
        assert cursor.fetchall() == (("t_bi",),)
        cursor.execute("SELECT id, `a;b`, n FROM t ORDER BY id")
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def _run_sqlite(path):
    split = statements.split(SQLITE_SCRIPT, "sqlite")
    assert len(split) == 3, split
    conn = sqlite3.connect(path)
    try:
        for sql in split:
            # sqlite3 refuses more than one statement per execute().
            conn.execute(sql)
        conn.commit()
        return conn.execute('SELECT id, "a;b", n FROM t ORDER BY id').fetchall()
    finally:
        conn.close()

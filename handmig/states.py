"""Progress a project state through a forward plan, rendering only what SQL needs.

``migrate`` keeps the whole project rendered as model classes and, for every
operation, clones that registry and re-renders the changed model with
everything related to it, recursively. Both grow with the size of the
project, so a long history costs time quadratic in its length. The SQL of an
operation needs far less: its own models, the models that point at them
(they show up in ``_meta.related_objects``), and what all of those point at
in turn (a model class only renders with its foreign key targets and bases
present).

A Progression keeps the full project state unrendered, which makes
``state_forwards`` cheap, and an index of which model refers to which. For
each operation it renders two small states, before and after, holding just
those models. The state before is rendered before the operation changes the
project, and the one after only then, as the executor does: the order in
which model classes are made decides the column order of tables SQLite
rebuilds.

Only Django's own operations get small states; they are known to reach no
further. Any other operation, and RunPython, sees the whole project, rendered
only if it asks for a model: most data migrations of a plan never render.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.migrations import operations
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.utils import resolve_relation

Key = tuple[str, str]

# What each of Django's operations reads when it writes SQL, by class name:
# - "related": its models, the models pointing at them (altering a key
#   alters or rebuilds the columns that refer to it), what all of those
#   point at;
# - "own": its models and what they point at;
# - "nothing": no SQL at all; the states are rendered only if asked;
# - "stateless": changes no model; gets the whole project, rendered only
#   if asked (RunPython's apps).
# Only these exact classes, from these modules: a subclass, or another
# operation, may read anything, and gets the whole project.
_KINDS = {
    "django.db.migrations.operations": {
        "CreateModel": "own",
        "DeleteModel": "related",
        "RenameModel": "related",
        "AlterModelTable": "own",
        "AlterModelTableComment": "own",
        "AlterUniqueTogether": "own",
        "AlterIndexTogether": "own",
        "AlterOrderWithRespectTo": "own",
        "AlterModelOptions": "nothing",
        "AlterModelManagers": "nothing",
        "AddIndex": "own",
        "RemoveIndex": "own",
        "RenameIndex": "own",
        "AddConstraint": "own",
        "RemoveConstraint": "own",
        "AlterConstraint": "own",
        "AddField": "own",
        "RemoveField": "own",
        "AlterField": "related",
        "RenameField": "related",
        "RunPython": "stateless",
        "RunSQL": "stateless",
    },
    # Named, not imported: importing them needs a PostgreSQL driver.
    "django.contrib.postgres.operations": {
        "AddIndexConcurrently": "own",
        "RemoveIndexConcurrently": "own",
        "AddConstraintNotValid": "own",
        "ValidateConstraint": "own",
        "CreateExtension": "stateless",
        "BloomExtension": "stateless",
        "BtreeGinExtension": "stateless",
        "BtreeGistExtension": "stateless",
        "CITextExtension": "stateless",
        "CryptoExtension": "stateless",
        "HStoreExtension": "stateless",
        "TrigramExtension": "stateless",
        "UnaccentExtension": "stateless",
        "CreateCollation": "stateless",
        "RemoveCollation": "stateless",
    },
}


def _kind(operation) -> str:
    """Return what ``operation`` reads (see _KINDS), or "unknown"."""
    cls = type(operation)
    # Operations are defined in submodules (operations.fields, ...).
    module = cls.__module__.rpartition(".")[0]
    if cls.__module__ == "django.contrib.postgres.operations":
        module = cls.__module__
    kind = _KINDS.get(module, {}).get(cls.__name__, "unknown")
    if kind == "stateless" and getattr(operation, "state_operations", None):
        # RunSQL may carry state operations: those change models.
        return "unknown"
    return kind


class Progression:
    """The project state through a forward plan, one operation at a time."""

    def __init__(self, state: ProjectState, *, referrers: bool = True):
        """Progress ``state`` in place.

        Without ``referrers``, operations that read only their own models
        get states without the models pointing at them; their tables then
        show no incoming foreign keys (which online schema tools care about).
        """
        self.state = state
        self.references = _References(state)
        self.all_referrers = referrers
        # The state after the last operation: the next one often works on
        # the same models and starts from it, as migrate's would.
        self._last: SubState | None = None
        # The whole project for operations that change no model, shared by
        # consecutive ones (data migrations often come in a row).
        self._whole_project: _LazyState | None = None

    def steps(self, migration) -> Iterator[tuple[int, object, object, object]]:
        """Yield (number, operation, state before, state after) and progress.

        Like Migration.apply, each operation sees the project as the ones
        before it left it, so the steps are produced one at a time: the
        caller runs each before asking for the next.
        """
        app_label = migration.app_label
        for number, operation in enumerate(migration.operations, 1):
            kind = _kind(operation)
            if kind == "stateless":
                # One state serves before and after, used (if at all) before
                # the next operation changes the project.
                if self._whole_project is None:
                    self._whole_project = _LazyState(
                        dict(self.state.models), self.state.real_apps
                    )
                operation.state_forwards(app_label, self.state)
                yield number, operation, self._whole_project, self._whole_project
                continue
            self._whole_project = None
            if kind == "unknown":
                yield number, operation, *self._whole(app_label, operation)
            else:
                yield number, operation, *self._small(app_label, operation, kind)

    def _small(self, app_label, operation, kind):
        named = _named_models(app_label, operation)
        related = kind == "related" or (self.all_referrers and kind == "own")
        # Models pointing at the named ones are found before the operation
        # repoints them (RenameModel).
        touched = named | self.references.referrers(named)
        full, stubs = self.references.needed(named, related)
        if self._last is not None and self._last.covers(full, stubs):
            state_before = self._last
        else:
            state_before = self._substate(full, stubs)
        if kind != "nothing":
            state_before.apps  # noqa: B018 - render now, before the project changes
        operation.state_forwards(app_label, self.state)
        self.references.update(touched)
        self._last = self._substate(*self.references.needed(named, related))
        return state_before, self._last

    def _whole(self, app_label, operation):
        before = _LazyState(self.state.clone().models, self.state.real_apps)
        # Rendered before the operation changes the project, as in _small.
        before.render()
        operation.state_forwards(app_label, self.state)
        # An operation handmig does not know may have changed any model.
        self.references = _References(self.state)
        self._last = None
        return before, _LazyState(dict(self.state.models), self.state.real_apps)

    def _substate(self, full: set[Key], stubs: set[Key]) -> SubState:
        """Return these models (a copy of each: operations change them in place)."""
        models = self.state.models
        # In the project's order, as a state cut from the whole one would
        # hold them; looked up, not scanned: a scan per operation would make
        # the plan's time grow with the square of the project's size.
        chosen = {}
        for key in self.references.in_order(full | stubs):
            chosen[key] = models[key].clone() if key in full else _stub(models[key])
        return SubState(chosen, self.state.real_apps, stubs, models)


class SubState(ProjectState):
    """Part of the project state: some models whole, some as stubs.

    ``stubs`` are models that are only pointed at: they keep their primary
    key and plain fields, enough to be the target of a foreign key.
    ``exists`` tells whether a model not in this state is in the project.
    """

    def __init__(self, models, real_apps, stubs, project_models):
        super().__init__(models, real_apps=real_apps)
        self.stubs = stubs
        self._project_models = project_models

    def exists(self, key: Key) -> bool:
        return key in self._project_models

    def covers(self, full: set[Key], stubs: set[Key]) -> bool:
        """Whether this state holds ``full`` whole and ``stubs`` at least as stubs.

        Any model of it pointing at one of ``full`` is one of ``full``
        already (the caller asks for every model that does), so the related
        objects of those come out the same.
        """
        models = self.models
        return all(key in models and key not in self.stubs for key in full) and all(
            key in models for key in stubs
        )


# Options a stub keeps: what the table is called and whether Django manages it.
_STUB_OPTIONS = ("db_table", "db_tablespace", "managed", "proxy", "swappable")


def _stub(model_state: ModelState) -> ModelState:
    """Return ``model_state`` cut down to what a foreign key to it reads."""
    fields = {
        name: field
        for name, field in model_state.fields.items()
        # A primary key that is a relation (multi-table inheritance) stays:
        # its target is a stub too.
        if not field.is_relation or field.primary_key
    }
    options = {
        key: value for key, value in model_state.options.items() if key in _STUB_OPTIONS
    }
    return ModelState(
        model_state.app_label,
        model_state.name,
        fields,
        options=options,
        bases=model_state.bases,
    )


def rendered_apps(state):
    """Return the model registry of ``state`` if it is rendered already, else None."""
    if isinstance(state, _LazyState):
        return state.__dict__.get("rendered")
    return state.__dict__.get("apps")


class _LazyState(ProjectState):
    """A whole project state rendered only when something asks for a model."""

    def __init__(self, models, real_apps):
        super().__init__(models, real_apps=real_apps)

    @property  # type: ignore[override]
    def apps(self):
        return _LazyApps(self)

    def render(self):
        if "rendered" not in self.__dict__:
            self.__dict__["rendered"] = ProjectState(
                self.models, real_apps=self.real_apps
            ).apps
        return self.__dict__["rendered"]


class _LazyApps:
    """Stands for the rendered registry until its first use (RunPython's apps)."""

    def __init__(self, state: _LazyState):
        self._state = state

    def __getattr__(self, name):
        return getattr(self._state.render(), name)


def _named_models(app_label: str, operation) -> set[Key]:
    """Return the models an operation works on, by the names it carries."""
    if isinstance(operation, operations.RenameModel):
        names = [operation.old_name, operation.new_name]
    else:
        # Field, index and constraint operations carry a model_name; their
        # name is the field's or the index's.
        names = [getattr(operation, "model_name", None) or operation.name]
    return {(app_label, name.lower()) for name in names}


class _References:
    """Which model points at which: relation fields, through models, bases."""

    def __init__(self, state: ProjectState):
        self.state = state
        self.outgoing: dict[Key, set[Key]] = {}
        self.bases: dict[Key, set[Key]] = {}
        # Explicit through models of many-to-many fields: rendered whole.
        self.through: dict[Key, set[Key]] = {}
        # What a stub points at: its bases and a primary key that is a relation.
        self.stub_targets: dict[Key, set[Key]] = {}
        self.incoming: dict[Key, set[Key]] = defaultdict(set)
        self.children: dict[Key, set[Key]] = defaultdict(set)
        # Where each model stands in the project state's models: a model
        # added (or renamed, or deleted and made again) goes last, as in
        # the state's dict. The order in which models are rendered decides
        # the order of related objects, and so of the SQL altering them.
        self.position: dict[Key, int] = {}
        self._next = 0
        for key in state.models:
            self._add(key)

    def update(self, keys: Iterable[Key]) -> None:
        """Read again what ``keys`` point at, after an operation changed them."""
        for key in keys:
            for target in self.outgoing.pop(key, ()):
                self.incoming[target].discard(key)
            for base in self.bases.pop(key, ()):
                self.children[base].discard(key)
            self.through.pop(key, None)
            self.stub_targets.pop(key, None)
            if key in self.state.models:
                self._add(key)
            else:
                self.position.pop(key, None)

    def in_order(self, keys: set[Key]) -> list[Key]:
        """Return ``keys`` in the order of the project state's models."""
        if not keys.issubset(self.position):
            # A model came in other than through an operation naming it.
            self.position = {key: i for i, key in enumerate(self.state.models)}
            self._next = len(self.position)
        return sorted(keys, key=self.position.__getitem__)

    def referrers(self, keys: set[Key]) -> set[Key]:
        return {source for key in keys for source in self.incoming.get(key, ())}

    def needed(self, named: set[Key], related: bool) -> tuple[set[Key], set[Key]]:
        """Return the models to render whole, and as stubs, for SQL about ``named``.

        Whole: the named models and, if ``related``, their inheritance family
        (a model's related objects include its parents' and those of
        relations to its proxies) and every model pointing at one of them
        (the schema editor alters or rebuilds those). Stubs: what those point
        at, and their parents.
        """
        models = self.state.models
        full = {key for key in named if key in models}
        if related:
            family = _walk(_walk(full, self.bases), self.children)
            full = family | self.referrers(family)
        full |= {through for key in full for through in self.through.get(key, ())}
        full = {key for key in full if key in models}
        targets = {target for key in full for target in self.outgoing[key]}
        stubs = _walk(targets - full, self.stub_targets) - full
        return full, {key for key in stubs if key in models}

    def _add(self, key: Key) -> None:
        model_state = self.state.models[key]
        if key not in self.position:
            self.position[key] = self._next
            self._next += 1
        targets = set()
        throughs = set()
        stub_targets = set()
        for field in model_state.fields.values():
            remote = getattr(field, "remote_field", None)
            if remote is None:
                continue
            target = resolve_relation(remote.model, *key)
            targets.add(target)
            if field.primary_key:
                stub_targets.add(target)
            through = getattr(remote, "through", None)
            if through is not None:
                throughs.add(resolve_relation(through, *key))
        bases = set()
        for base in model_state.bases:
            if isinstance(base, str):
                bases.add(resolve_relation(base, *key))
            elif getattr(base, "_meta", None) is not None and not base._meta.abstract:
                bases.add((base._meta.app_label, base._meta.model_name))
        targets.discard(key)
        bases.discard(key)
        throughs.discard(key)
        targets |= bases | throughs
        self.outgoing[key] = targets
        self.bases[key] = bases
        self.through[key] = throughs
        self.stub_targets[key] = (stub_targets | bases) - {key}
        for target in targets:
            self.incoming[target].add(key)
        for base in bases:
            self.children[base].add(key)


def _walk(start: set[Key], edges: dict[Key, set[Key]]) -> set[Key]:
    """Return ``start`` and everything reachable from it along ``edges``."""
    seen = set(start)
    pending = list(start)
    while pending:
        for target in edges.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen

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
from django.db.migrations.state import ProjectState
from django.db.migrations.utils import resolve_relation

Key = tuple[str, str]

# Operations whose database methods only look at the models they name, the
# models pointing at those, and what those point at. Exact types: a subclass
# may look anywhere.
_MODEL_OPERATIONS = tuple(
    getattr(operations, name)
    for name in (
        "CreateModel",
        "DeleteModel",
        "RenameModel",
        "AlterModelTable",
        "AlterModelTableComment",
        "AlterUniqueTogether",
        "AlterIndexTogether",
        "AlterOrderWithRespectTo",
        "AlterModelOptions",
        "AlterModelManagers",
        "AddIndex",
        "RemoveIndex",
        "RenameIndex",
        "AddConstraint",
        "RemoveConstraint",
        "AlterConstraint",
        "AddField",
        "RemoveField",
        "AlterField",
        "RenameField",
    )
    if hasattr(operations, name)
)
# django.contrib.postgres's operations, by name: importing them needs a
# PostgreSQL driver. The index and constraint ones work like AddIndex.
_POSTGRES_MODULE = "django.contrib.postgres.operations"
_POSTGRES_MODEL_OPERATIONS = {
    "AddIndexConcurrently",
    "RemoveIndexConcurrently",
    "AddConstraintNotValid",
    "ValidateConstraint",
}
# Operations that change no model and read none from the state passed in
# (RunPython gets the registry, rendered when it asks for a model).
_STATELESS_OPERATIONS = (operations.RunPython, operations.RunSQL)
_POSTGRES_STATELESS = {
    "CreateExtension",
    "BloomExtension",
    "BtreeGinExtension",
    "BtreeGistExtension",
    "CITextExtension",
    "CryptoExtension",
    "HStoreExtension",
    "TrigramExtension",
    "UnaccentExtension",
    "CreateCollation",
    "RemoveCollation",
}


def _kind(operation) -> str:
    """Return "model", "stateless" or "unknown" for an operation."""
    kind = type(operation)
    if kind in _MODEL_OPERATIONS:
        return "model"
    if kind in _STATELESS_OPERATIONS:
        return "stateless"
    if kind.__module__ == _POSTGRES_MODULE:
        if kind.__name__ in _POSTGRES_MODEL_OPERATIONS:
            return "model"
        if kind.__name__ in _POSTGRES_STATELESS:
            return "stateless"
    return "unknown"


class Progression:
    """The project state through a forward plan, one operation at a time."""

    def __init__(self, state: ProjectState):
        self.state = state
        self.references = _References(state)

    def steps(self, migration) -> Iterator[tuple[int, object, object, object]]:
        """Yield (number, operation, state before, state after) and progress.

        Like Migration.apply, each operation sees the project as the ones
        before it left it, so the steps are produced one at a time: the
        caller runs each before asking for the next.
        """
        app_label = migration.app_label
        for number, operation in enumerate(migration.operations, 1):
            kind = _kind(operation)
            if kind == "model":
                yield number, operation, *self._small(app_label, operation)
            elif kind == "stateless":
                # One state serves before and after, used (if at all) before
                # the next operation changes the project.
                whole = _LazyState(dict(self.state.models), self.state.real_apps)
                operation.state_forwards(app_label, self.state)
                yield number, operation, whole, whole
            else:
                yield number, operation, *self._whole(app_label, operation)

    def _small(self, app_label, operation):
        named = _named_models(app_label, operation)
        # Models pointing at the named ones are found before the operation
        # repoints them (RenameModel).
        touched = named | self.references.referrers(named)
        before = self.references.needed(named)
        # A copy of each model's state: the operation changes them in place.
        state_before = self._substate(before, snapshot=True)
        state_before.apps  # noqa: B018 - render now, before the project changes
        operation.state_forwards(app_label, self.state)
        self.references.update(touched | _named_models(app_label, operation))
        after = self.references.needed(named)
        # Every model of the state before that still exists is in the state
        # after too, so that "missing after" means "dropped".
        after |= {key for key in before if key in self.state.models}
        return state_before, self._substate(after, snapshot=False)

    def _whole(self, app_label, operation):
        before = _LazyState(self.state.clone().models, self.state.real_apps)
        # Rendered before the operation changes the project, as in _small.
        before.render()
        operation.state_forwards(app_label, self.state)
        # An operation handmig does not know may have changed any model.
        self.references = _References(self.state)
        return before, _LazyState(dict(self.state.models), self.state.real_apps)

    def _substate(self, keys: set[Key], snapshot: bool) -> ProjectState:
        models = self.state.models
        chosen = {
            key: (state.clone() if snapshot else state)
            for key, state in models.items()
            if key in keys
        }
        return ProjectState(chosen, real_apps=self.state.real_apps)


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
        self.incoming: dict[Key, set[Key]] = defaultdict(set)
        self.children: dict[Key, set[Key]] = defaultdict(set)
        for key in state.models:
            self._add(key)

    def update(self, keys: Iterable[Key]) -> None:
        """Read again what ``keys`` point at, after an operation changed them."""
        for key in keys:
            for target in self.outgoing.pop(key, ()):
                self.incoming[target].discard(key)
            for base in self.bases.pop(key, ()):
                self.children[base].discard(key)
            if key in self.state.models:
                self._add(key)

    def referrers(self, keys: set[Key]) -> set[Key]:
        return {source for key in keys for source in self.incoming.get(key, ())}

    def needed(self, named: set[Key]) -> set[Key]:
        """Return the models to render for SQL about ``named``."""
        models = self.state.models
        # A model's related objects include those of its parents, and of
        # relations to its proxies: take the whole inheritance family.
        family = _walk({key for key in named if key in models}, self.bases)
        family = _walk(family, self.children)
        related = family | self.referrers(family)
        return {key for key in _walk(related, self.outgoing) if key in models}

    def _add(self, key: Key) -> None:
        model_state = self.state.models[key]
        targets = set()
        for field in model_state.fields.values():
            remote = getattr(field, "remote_field", None)
            if remote is None:
                continue
            targets.add(resolve_relation(remote.model, *key))
            through = getattr(remote, "through", None)
            if through is not None:
                targets.add(resolve_relation(through, *key))
        bases = set()
        for base in model_state.bases:
            if isinstance(base, str):
                bases.add(resolve_relation(base, *key))
            elif getattr(base, "_meta", None) is not None and not base._meta.abstract:
                bases.add((base._meta.app_label, base._meta.model_name))
        targets.discard(key)
        bases.discard(key)
        targets |= bases
        self.outgoing[key] = targets
        self.bases[key] = bases
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

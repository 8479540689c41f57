"""YAML loading that remembers where every value came from, for `file:line: message` errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Where:
    """A place in a source file (1-based line and column)."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Problem(Exception):
    """One thing wrong with a file, located."""

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Map(dict[str, Any]):
    """A YAML mapping; `where` is the mapping itself, `key_where[k]` where key k is written."""

    where: Where
    key_where: dict[str, Where]

    def at(self, key: str) -> Where:
        return self.key_where.get(key, self.where)


class Seq(list[Any]):
    """A YAML sequence; `item_where[i]` is where item i is written."""

    where: Where
    item_where: list[Where]

    def at(self, index: int) -> Where:
        return self.item_where[index] if index < len(self.item_where) else self.where


# A rotation set is a few thousand nodes; an alias bomb is billions once expanded. Aliases are
# shared nodes, so the bounds are checked on the composed graph, before anything is built.
MAX_ALIASES = 10_000
MAX_EXPANDED_NODES = 1_000_000
MAX_QUOTED = 80  # characters of a user's value quoted in a message


def quoted(value: object) -> str:
    """A user's value for a message, cut to a readable length."""
    text = str(value)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 3] + "..."


def _where(filename: str, node: yaml.Node) -> Where:
    mark = node.start_mark
    return Where(filename, mark.line + 1, mark.column + 1)


class _Loader(yaml.SafeLoader):
    filename = "<string>"


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser where PyYAML has it: about 2.7x faster on a large rotation set, with the
    same marks. Its error texts are terser, so a file it refuses is read again by `_Loader`
    for the message."""

    filename = "<string>"


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Map:
    result = Map()
    result.where = _where(loader.filename, node)
    result.key_where = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise Problem(_where(loader.filename, key_node), "mapping keys must be plain values")
        key = str(key)
        if key in result:
            raise Problem(_where(loader.filename, key_node), f"duplicate key '{quoted(key)}'")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_where[key] = _where(loader.filename, key_node)
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    result = Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.where = _where(loader.filename, node)
    result.item_where = [_where(loader.filename, child) for child in node.value]
    return result


def _construct_timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Times in our files are local to a zone named elsewhere; keep them as text and parse later.
    return str(loader.construct_scalar(node))


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node, filename: str) -> None:
    """Refuse a document whose aliases expand past the bounds (or loop), in one pass over
    its distinct nodes. Raises `Problem` at the node where a bound is crossed."""
    sizes: dict[int, int] = {}
    aliases = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_EXPANDED_NODES:
                raise Problem(
                    _where(filename, node),
                    f"aliases expand to more than {MAX_EXPANDED_NODES} values; write it out",
                )
            sizes[id(node)] = size
            continue
        if id(node) in sizes:
            continue
        sizes[id(node)] = -1  # in progress: meeting it again below means a loop
        stack.append((node, True))
        for child in _children(node):
            if id(child) in sizes:
                aliases += 1
                if sizes[id(child)] < 0:
                    raise Problem(_where(filename, child), "an alias refers to itself")
                if aliases > MAX_ALIASES:
                    raise Problem(_where(filename, child), f"more than {MAX_ALIASES} aliases")
            else:
                stack.append((child, False))


def _bounded_data(loader: _Loader | _FastLoader, filename: str) -> Any:
    root = loader.get_single_node()
    if root is None:
        return None
    check_expansion(root, filename)
    return loader.construct_document(root)


def load(text: str, filename: str) -> Any:
    """Parse one YAML document; mappings become `Map`, sequences `Seq`. Raises `Problem`."""
    fast = _FastLoader(text)
    fast.filename = filename
    try:
        return _bounded_data(fast, filename)
    except yaml.YAMLError:
        pass  # read again below, for the clearer message
    finally:
        fast.dispose()
    return _load(_Loader(text), filename)


def _load(loader: _Loader, filename: str) -> Any:
    loader.filename = filename
    try:
        return _bounded_data(loader, filename)
    except Problem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(filename, mark.line + 1, mark.column + 1) if mark else Where(filename, 1)
        raise Problem(where, f"invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise Problem(Where(filename, 1), f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def where_of(value: Any, fallback: Where) -> Where:
    """The location of a mapping or sequence value, else `fallback`."""
    return getattr(value, "where", fallback)

"""The `integrations:` section: one entry per place alerts come from."""

from __future__ import annotations

from pager.config.delivery import DeliveryReader
from pager.config.model import (
    _MISSING_AUTH,
    _UNUSED_AUTH,
    INTEGRATION_KEYS,
    MAPPING_PATHS,
    SOURCE_RULES,
    SOURCES,
    FieldMapping,
    FieldPath,
    IntegrationSettings,
    SourceRules,
)
from pager.config.rates import ProviderRateReader
from pager.domain.yamldoc import Map, Seq, Where

# The keys of a generic integration's `mapping`: where each field is, and which states mean what.
MAPPING_KEYS = {*MAPPING_PATHS, "firing", "resolved"}


class IntegrationReader(DeliveryReader, ProviderRateReader):
    def integrations(self, doc: Map) -> dict[str, IntegrationSettings]:
        value = self.section(doc, "integrations", "integrations: expected a mapping by name")
        if value is None:
            return {}
        result = {}
        for name, entry in value.items():
            if not isinstance(entry, Map):
                self.problem(
                    value.at(name), f"integration '{name}': expected service, source and token"
                )
                continue
            self.keys(entry, INTEGRATION_KEYS, f"integration '{name}'")
            result[name] = self.integration(name, entry, value.at(name))
        return result

    def integration(self, name: str, entry: Map, where: Where) -> IntegrationSettings:
        for key in ("service", "source"):
            if key not in entry:
                self.problem(where, f"integration '{name}': missing '{key}'")
        source = self.text(entry.get("source", ""), entry.at("source"), "source")
        rules = SOURCE_RULES.get(source)
        if source and rules is None:
            known = ", ".join(SOURCES)
            self.problem(entry.at("source"), f"source '{source}' unknown (known: {known})")
        if rules is not None:
            self.source_rules(name, entry, where, source, rules)
        return IntegrationSettings(
            name=name,
            service=self.text(entry.get("service", ""), entry.at("service"), "service"),
            source=source,
            token=self.secret(name, entry, "token"),
            secret=self.secret(name, entry, "secret"),
            previous_secret=self.secret(name, entry, "previous_secret"),
            branches=self.branches(name, entry),
            mapping=self.mapping(name, entry),
            group_by=self.labels(name, entry),
            reopen_within=self.duration(entry, "reopen_within", f"integration '{name}'"),
            urgency=self.urgency(name, entry),
        )

    def secret(self, name: str, entry: Map, key: str) -> str | None:
        """A token or secret: text, usually `${ENV}`; set but empty is a mistake."""
        if key not in entry:
            return None
        value = self.text(entry[key], entry.at(key), f"integration '{name}' {key}")
        if not value and not self.problems:
            self.problem(entry.at(key), f"integration '{name}': {key} is empty")
        return value or None

    def source_rules(
        self, name: str, entry: Map, where: Where, source: str, rules: SourceRules
    ) -> None:
        """The keys this source needs are there, and none it would silently ignore."""
        accepted = rules.auth.split(" or ")
        if not any(key in entry for key in accepted):
            self.problem(where, f"integration '{name}': {_MISSING_AUTH[rules.auth]}")
        unused = (_UNUSED_AUTH[rules.auth] | {"branches", "mapping"}) - rules.options
        for key in sorted(unused & set(entry)):
            self.problem(entry.at(key), f"integration '{name}': source '{source}' takes no '{key}'")
        if "previous_secret" in entry and "secret" not in entry:
            self.problem(
                entry.at("previous_secret"), f"integration '{name}': previous_secret needs secret"
            )

    def branches(self, name: str, entry: Map) -> tuple[str, ...]:
        if "branches" not in entry:
            return ()
        value = entry["branches"]
        if not isinstance(value, Seq) or not value:
            self.problem(
                entry.at("branches"),
                f"integration '{name}': branches: expected a list of branch names",
            )
            return ()
        found = [
            self.text(v, value.at(i), f"integration '{name}' branches") for i, v in enumerate(value)
        ]
        return tuple(b for b in found if b)

    def mapping(self, name: str, entry: Map) -> FieldMapping | None:
        what = f"integration '{name}' mapping"
        value = self.section(entry, "mapping", f"{what}: expected a mapping of fields to paths")
        if value is None:
            return None
        self.keys(value, MAPPING_KEYS, what)
        if "title" not in value:
            self.problem(value.where, f"{what}: missing 'title' (a path such as $.incident.name)")
            return None
        paths = {key: self.field_path(value, key, what) for key in MAPPING_PATHS if key in value}
        states = {
            key: self.states(value, key, what) for key in ("firing", "resolved") if key in value
        }
        return FieldMapping(**paths, **states)

    def field_path(self, mapping: Map, key: str, what: str) -> FieldPath:
        text = self.text(mapping[key], mapping.at(key), f"{what} {key}")
        segments = tuple(text.removeprefix("$").removeprefix(".").split("."))
        if not text or not all(segments):
            self.problem(
                mapping.at(key), f"{what} {key}: '{text}' is not a path like $.incident.key"
            )
        return segments

    def states(self, mapping: Map, key: str, what: str) -> tuple[str, ...]:
        value = mapping[key]
        if not isinstance(value, Seq) or not value:
            self.problem(mapping.at(key), f"{what} {key}: expected a list of states")
            return ()
        return tuple(self.text(v, value.at(i), f"{what} {key}") for i, v in enumerate(value))

    def labels(self, name: str, entry: Map) -> tuple[str, ...]:
        if "group_by" not in entry:
            return ()
        value = entry["group_by"]
        if not isinstance(value, Seq) or not value:
            self.problem(
                entry.at("group_by"), f"integration '{name}': group_by: expected label names"
            )
            return ()
        return tuple(
            self.text(v, value.at(i), f"integration '{name}' group_by") for i, v in enumerate(value)
        )

    def urgency(self, name: str, entry: Map) -> dict[str, str]:
        """`urgency: {critical: high, warning: low}`: severity label -> urgency."""
        what = f"integration '{name}' urgency"
        value = self.section(entry, "urgency", f"{what}: expected severity: high|low pairs")
        if value is None:
            return {}
        result = {}
        for severity, level in value.items():
            text = self.text(level, value.at(severity), what)
            if text not in ("high", "low"):
                self.problem(value.at(severity), f"{what} {severity}: '{text}' is not high or low")
            result[severity] = text
        return result

"""Schematron rules with XPath 2.0, such as those embedded in ``tei_all.rng``.

lxml's ``isoschematron`` handles XPath 1.0 only and refuses the rules the TEI schemas
carry. Here each rule is read from the schema (``sch:pattern`` inside a RELAX NG file,
or a standalone ``.sch``) and evaluated directly:

* a rule applies to the nodes its ``context`` pattern matches (the first matching rule
  of a pattern wins, as Schematron says); a rule whose context names an element or an
  attribute the document does not use is skipped without evaluating anything;
* ``sch:let`` variables, then each ``assert`` (fails when false) and ``report`` (fires
  when true), with ``sch:name`` and ``sch:value-of`` in the message; a rule that meets
  many nodes has each check evaluated once over the document, ``(context)[not(test)]``,
  where that gives the same answers (no variables, no ``position()``, ``last()`` or
  ``current()``): a play's 20,000 paragraphs cost one XPath call, not 20,000;
* an expression that XPath 1.0 can compile runs in libxml2; any other runs in
  ``elementpath`` (XPath 2.0, or 3.1 where 2.0 cannot parse it), imported only when a
  document needs it;
* ``role`` "warning", "warn", "nonfatal", "info" or "information" gives a warning,
  anything else an error.
"""

from __future__ import annotations

import contextlib
import marshal
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree

from . import cache as disk
from .errors import Issue, SchemaError

SCH = "http://purl.oclc.org/dsdl/schematron"
_S = "{" + SCH + "}"
DEBUG = False
_CURRENT = "current_node_"
_CODEPOINTS = "http://www.w3.org/2005/xpath-functions/collation/codepoint"
_WARNING_ROLES = frozenset({"warning", "warn", "nonfatal", "info", "information"})
#: From how many nodes of a rule its checks are each evaluated once over the document.
BATCH_FROM = 8
#: What makes a test depend on its evaluation one node at a time: the context position
#: and size, XSLT's current(), variables.
_POSITIONAL = re.compile(r"\b(?:position|last|current)\s*\(|\$")


class Finding(NamedTuple):
    """One failed assertion or fired report."""

    line: int
    severity: str
    message: str
    rule: str


class _Check(NamedTuple):
    report: bool
    test: str
    message: tuple[str | tuple[str, str], ...]  # text, or ("name"|"value-of", select)
    severity: str
    id: str


class _Rule(NamedTuple):
    context: str
    lets: tuple[tuple[str, str], ...]
    checks: tuple[_Check, ...]
    needs: tuple[tuple[str, str], ...]  # (kind, name): one must occur for the rule to apply; () = always
    xpath2: bool  # the context selects attributes: evaluate the whole rule with elementpath


class _Pattern(NamedTuple):
    id: str
    rules: tuple[_Rule, ...]


class _Expr:
    """An XPath expression compiled for libxml2 when it is XPath 1.0, else for elementpath."""

    def __init__(self, text: str, namespaces: dict[str, str]) -> None:
        text = re.sub(r"\bcurrent\(\s*\)", "$" + _CURRENT, text)  # XSLT's current(): the rule's node
        self.text = text
        self.namespaces = namespaces
        self._lxml: etree.XPath | None
        try:
            self._lxml = etree.XPath(_as_xpath1(text), namespaces=namespaces)
        except etree.XPathSyntaxError:
            self._lxml = None
        if DEBUG and self._lxml is None:
            print("xpath2:", text)
        self._ep: Any = None

    def run(self, node: Any, root: etree._Element, variables: dict[str, Any], xpath2: bool = False) -> Any:
        """Return the raw result of the expression with ``node`` as context item."""
        variables = {**variables, _CURRENT: node}
        if self._lxml is not None and not xpath2:
            try:
                return self._lxml(node, **variables)
            except etree.XPathEvalError:
                self._lxml = None  # an XPath 2.0 function: evaluate with elementpath from now on
        import elementpath

        if self._ep is None:
            try:
                self._ep = self._parser(elementpath.XPath2Parser).parse(self.text)
            except elementpath.ElementPathSyntaxError:  # XPath 3.1's (TEI's rules write ``'Q{' || @ns``)
                from elementpath.xpath31 import XPath31Parser

                self._ep = self._parser(XPath31Parser).parse(self.text)
        ctx = elementpath.XPathContext(root, item=node, variables=variables)
        return self._ep.get_results(ctx)

    def _parser(self, kind: Any) -> Any:
        # XPath's default collation, whatever the process's locale (elementpath would take
        # LC_COLLATE's, and fail where that names a locale the machine lacks)
        parser = kind(namespaces=self.namespaces, default_collation=_CODEPOINTS)
        if "generate-id" in self.text:  # XSLT's, which Schematron rules may call
            parser.external_function(_generate_id, name="generate-id", sequence_types=("node()?", "xs:string"))
        return parser

    def boolean(self, node: Any, root: etree._Element, variables: dict[str, Any], xpath2: bool = False) -> bool:
        """Return the effective boolean value of the expression."""
        value = self.run(node, root, variables, xpath2)
        if isinstance(value, list):
            if not value:
                return False
            first = value[0]
            if len(value) == 1 and isinstance(first, bool):
                return first
            if len(value) == 1 and isinstance(first, (int, float)) and not isinstance(first, bool):
                return first != 0 and first == first
            if len(value) == 1 and isinstance(first, str) and not isinstance(first, etree._ElementUnicodeResult):
                return first != ""  # a string, not an attribute or text node (which counts whatever its value)
            return True
        if isinstance(value, float):
            return value != 0 and value == value
        return bool(value)

    def string(self, node: Any, root: etree._Element, variables: dict[str, Any], xpath2: bool = False) -> str:
        """Return the string value of the expression (for sch:value-of)."""
        value = self.run(node, root, variables, xpath2)
        if isinstance(value, list):
            return " ".join(_string_of(v) for v in value)
        return _string_of(value)


def _evaluation_errors() -> tuple[type[Exception], ...]:
    """Return what evaluating a rule can raise: libxml2's XPath errors, elementpath's (an
    unknown function, a type error), and the Python errors elementpath lets through
    (imported here only once an error occurred)."""
    import elementpath

    return etree.XPathError, elementpath.ElementPathError, TypeError, ValueError


def _generate_id(node: Any = None) -> str:
    """XSLT's generate-id() for elementpath: one string for each node of a document, "" for none."""
    if node is None:
        return ""
    return f"{node.node_kind[0]}{node.position}"


def _string_of(v: Any) -> str:
    if isinstance(v, etree._Element):
        return "".join(str(t) for t in v.itertext())
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


#: Layout of the cached rules (``_packed``): bumped when it or the indexing changes.
_FORMAT = "1"


def _packed(namespaces: dict[str, str], patterns: Sequence[_Pattern]) -> tuple[Any, ...]:
    """Return the rules as plain tuples, lists and strings, for ``marshal``."""
    return (namespaces, [(p.id, [(r.context, r.lets, [tuple(c) for c in r.checks], r.needs, r.xpath2)
                                 for r in p.rules]) for p in patterns])


def _unpacked(data: Any) -> tuple[dict[str, str], list[_Pattern]]:
    """Return what ``_packed`` gave, as rule sets hold it."""
    namespaces, patterns = data
    return dict(namespaces), [
        _Pattern(pid, tuple(_Rule(context, tuple(tuple(x) for x in lets),
                                  tuple(_Check(report, test, tuple(m if isinstance(m, str) else tuple(m)
                                                                   for m in message), severity, cid)
                                        for report, test, message, severity, cid in checks),
                                  tuple(tuple(x) for x in needs), bool(xpath2))
                            for context, lets, checks, needs, xpath2 in rules))
        for pid, rules in patterns]


class RuleSet:
    """The Schematron patterns of one schema."""

    def __init__(self, source: Path, patterns: Sequence[_Pattern], namespaces: dict[str, str]) -> None:
        self.source = source
        self.namespaces = namespaces
        self.patterns = tuple(patterns)
        self._exprs: dict[str, _Expr] = {}
        # for each rule, the element and the attribute names one of which must occur for it to apply
        self._needed = [[(rule, frozenset(n for kind, n in rule.needs if kind == "element"),
                          frozenset(n for kind, n in rule.needs if kind != "element")) for rule in p.rules]
                        for p in self.patterns]
        self._contexts: dict[str, str] = {}
        self._batches: dict[tuple[str, str, bool], etree.XPath | None] = {}
        self._narrowing: dict[tuple[str, str], etree.XPath | None] = {}  # see _may_fire
        self._by_names: dict[tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]],
                             list[tuple[int, list[_Rule]]]] = {}

    @classmethod
    def load(cls, path: Path) -> RuleSet:
        """Read the rules of a Schematron file, or those embedded in a RELAX NG schema.

        The rules, read and indexed, are kept in the disk cache under the file's sha256, so
        a large schema is not parsed again for them.
        """
        try:
            key, data = disk.file_sha256(path)
            cached = disk.read("sch", f"{key}-{_FORMAT}.rules")
            if cached is not None:
                try:
                    namespaces, patterns = _unpacked(marshal.loads(cached))
                    return cls(path, patterns, namespaces)
                except (ValueError, TypeError, EOFError):
                    pass  # damaged or of another layout: read the schema again
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            root = etree.fromstring(data if data is not None else path.read_bytes(), parser)
        except (OSError, etree.XMLSyntaxError) as exc:
            raise SchemaError(Issue("schema.missing", str(path), f"cannot be read: {exc}")) from None
        namespaces = {ns.get("prefix", ""): ns.get("uri", "") for ns in root.iter(_S + "ns")}
        found = [p for p in root.iter(_S + "pattern") if p.get("abstract") != "true"]
        if any(p.get("is-a") for p in found) or any(r.get("abstract") == "true" for r in root.iter(_S + "rule")):
            raise SchemaError(Issue("schema.unsupported", str(path),
                                    "uses abstract Schematron patterns or rules, which are not supported"))
        rules = cls(path, [cls._pattern(p) for p in found], namespaces)
        disk.write(marshal.dumps(_packed(namespaces, rules.patterns)), "sch", f"{key}-{_FORMAT}.rules")
        return rules

    @classmethod
    def _pattern(cls, p: etree._Element) -> _Pattern:
        rules = []
        for r in p.iter(_S + "rule"):
            lets = tuple((x.get("name", ""), x.get("value", "")) for x in r.iter(_S + "let"))
            checks = tuple(cls._check(c, p.get("id", "")) for c in r if c.tag in (_S + "assert", _S + "report"))
            context = r.get("context", "")
            on_attribute = any(re.search(r"@[\w:-]+\s*$", b) for b in _top_level_union(context))
            rules.append(_Rule(context, lets, checks, _needs(context), on_attribute))
        return _Pattern(p.get("id", ""), tuple(rules))

    @staticmethod
    def _check(c: etree._Element, pattern_id: str) -> _Check:
        parts: list[str | tuple[str, str]] = [c.text or ""]
        for child in c:
            if child.tag == _S + "name":
                parts.append(("name", child.get("path", "")))
            elif child.tag == _S + "value-of":
                parts.append(("value-of", child.get("select", "")))
            elif isinstance(child.tag, str):
                parts.append("".join(str(t) for t in child.itertext()))
            parts.append(child.tail or "")
        role = (c.get("role") or "").lower()
        return _Check(
            report=c.tag == _S + "report",
            test=c.get("test", ""),
            message=tuple(parts),
            severity="warning" if role in _WARNING_ROLES else "error",
            id=c.get("id") or pattern_id,
        )

    def _expr(self, text: str) -> _Expr:
        found = self._exprs.get(text)
        if found is None:
            found = self._exprs[text] = _Expr(text, self.namespaces)
        return found

    def check(self, doc: etree._ElementTree, names: tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]
              | None = None) -> list[Finding]:
        """Return the findings of every rule on a document, in document order of their nodes.

        ``names``: the document's element and attribute names as (namespace, local name),
        when the caller has them already.
        """
        root = doc.getroot()
        if names is None:
            from .rng import document_names

            names = document_names(root)
        out: list[tuple[int, int, Finding]] = []
        order: dict[Any, int] = {}
        seen: dict[tuple[str, bool], list[Any]] = {}  # rules of several patterns share contexts
        for pi, rules in self._applicable(names[0], names[1]):
            fired: set[Any] = set()
            for rule in rules:
                try:
                    matched = self._matches(rule, root, seen)
                except _evaluation_errors() as exc:  # a rule of another project's: the others still run
                    out.append((0, pi, self._not_evaluated(rule.context, exc, root)))
                    continue
                if len(rules) == 1 and not rule.xpath2:
                    todo = matched  # one rule (most patterns), its nodes from libxml2: each once
                else:
                    todo = []
                    for node in matched:
                        key = node if isinstance(node, etree._Element) else (_element_of(node), _qname(node))
                        if key not in fired:
                            fired.add(key)
                            todo.append(node)
                failing = self._failing(rule, root) if len(todo) >= BATCH_FROM else None
                if failing is not None:
                    hits = set().union(*failing)
                    todo = [node for node in todo if node in hits] if hits else []
                elif len(todo) >= BATCH_FROM:
                    maybe = self._may_fire(rule, root)
                    if maybe is not None:
                        todo = [node for node in todo if node in maybe]
                for node in todo:
                    if failing is None:
                        found = list(self._apply(rule, node, root))
                    else:
                        found = [Finding(_line_of(node), c.severity, self._message(c, node, root, {}, False), c.id)
                                 for c, nodes in zip(rule.checks, failing, strict=True) if node in nodes]
                    if found and not order:
                        order = {el: i for i, el in enumerate(root.iter())}
                    out.extend((order.get(_element_of(node), 0), pi, f) for f in found)
        out.sort(key=lambda t: (t[0], t[1]))
        return [f for _, _, f in out]

    def _applicable(self, elements: frozenset[tuple[str, str]], attributes: frozenset[tuple[str, str]]
                    ) -> list[tuple[int, list[_Rule]]]:
        """Return, pattern by pattern, the rules that can apply to a document with these names
        (the documents of a batch mostly have the same names: asked once for each set)."""
        key = (elements, attributes)
        found = self._by_names.get(key)
        if found is None:
            local_elements = {local for _, local in elements}
            local_attributes = {local for _, local in attributes}
            found = [(pi, [rule for rule, needed_elements, needed_attributes in rules
                           if not rule.needs or not needed_elements.isdisjoint(local_elements)
                           or not needed_attributes.isdisjoint(local_attributes)])
                     for pi, rules in enumerate(self._needed)]
            if len(self._by_names) >= 1024:
                self._by_names.clear()
            self._by_names[key] = found
        return found

    @staticmethod
    def _not_evaluated(context: str, exc: Exception, node: Any, test: str = "") -> Finding:
        """A rule (or one test of it) this processor cannot evaluate: said as a warning, the
        document's verdict left to the others."""
        reason = " ".join(str(exc).split()) or type(exc).__name__
        what = f"the test {test!r} of the Schematron rule on {context!r}" if test else \
            f"the Schematron rule on {context!r}"
        return Finding(_line_of(node), "warning", f"{what} could not be evaluated here ({reason}); it was not checked",
                       "schematron.unsupported")

    def _matches(self, rule: _Rule, root: etree._Element, seen: dict[tuple[str, bool], list[Any]]) -> list[Any]:
        """Return the nodes a rule's context pattern matches (kept in ``seen`` for the document)."""
        found = seen.get((rule.context, rule.xpath2))
        if found is not None:
            return found
        expr = self._contexts.get(rule.context)
        if expr is None:
            branches = [b.strip() for b in _top_level_union(rule.context)]
            if all(not b.startswith(("(", "/")) for b in branches):
                expr = " | ".join(f"//{b}" for b in branches)  # XPath 1.0 when the branches are
            else:
                expr = f"//({rule.context})" if not rule.context.lstrip().startswith("/") else rule.context
            self._contexts[rule.context] = expr
        value = self._expr(expr).run(root, root, {}, rule.xpath2)
        found = seen[rule.context, rule.xpath2] = value if isinstance(value, list) else []
        return found

    def _failing(self, rule: _Rule, root: etree._Element) -> list[set[Any]] | None:
        """Return, for each check of a rule, the context nodes it fires on, each check
        evaluated once over the document (``(context)[not(boolean(test))]`` for an assert)
        instead of once a node; None where that cannot give the same answers: a rule with
        variables, on attributes, or whose tests depend on the context position or
        ``current()``, or that libxml2 cannot compile or evaluate."""
        if rule.lets or rule.xpath2:
            return None
        context = self._contexts[rule.context]
        out: list[set[Any]] = []
        for c in rule.checks:
            key = (context, c.test, c.report)
            test = None if key in self._batches or _POSITIONAL.search(c.test) else \
                f"boolean({c.test})" if c.report else f"not(boolean({c.test}))"  # (made once a key)
            found = self._over_document(self._batches, key, context, test, root)
            if found is None:
                return None
            out.append(found)
        return out

    def _may_fire(self, rule: _Rule, root: etree._Element) -> set[Any] | None:
        """Return the context nodes a rule of reports on ``current()`` may fire on, each
        report's test evaluated once over the document without its predicates that use
        ``current()`` (``_wider_path``: ``ancestor::tei:l`` for tei_all's
        ``ancestor::tei:l[not(.//tei:note//tei:l[. = current()])]``); the others cannot
        fire. None where a rule is not such (then each node is checked)."""
        if rule.lets or rule.xpath2 or not all(c.report for c in rule.checks):
            return None
        context = self._contexts[rule.context]
        out: set[Any] = set()
        for c in rule.checks:
            key2 = (context, c.test)
            wider = None if key2 in self._narrowing else _wider_path(c.test)  # (made once a key)
            found = self._over_document(self._narrowing, key2, context, wider, root)
            if found is None:
                return None
            out.update(found)
        return out

    def _over_document(self, compiled: dict[Any, etree.XPath | None], key: Any, context: str,
                       predicate: str | None, root: etree._Element) -> set[Any] | None:
        """Return the elements ``(context)[predicate]`` selects in the document, its XPath
        compiled once (kept in ``compiled`` under ``key``); None where there is no
        predicate, libxml2 cannot compile or evaluate it, or it selects other nodes."""
        if key not in compiled:
            compiled[key] = None
            if predicate is not None:
                with contextlib.suppress(etree.XPathSyntaxError):
                    compiled[key] = etree.XPath(_as_xpath1(f"({context})[{predicate}]"), namespaces=self.namespaces)
        xpath = compiled[key]
        if xpath is None:
            return None
        try:
            found = xpath(root)
        except etree.XPathEvalError:
            compiled[key] = None
            return None
        if not isinstance(found, list) or not all(isinstance(n, etree._Element) for n in found):
            return None
        return set(found)

    def _apply(self, rule: _Rule, node: Any, root: etree._Element) -> Iterable[Finding]:
        variables: dict[str, Any] = {}
        try:
            for name, value in rule.lets:
                variables[name] = self._expr(value).run(node, root, variables, rule.xpath2)
        except _evaluation_errors() as exc:
            yield self._not_evaluated(rule.context, exc, node)
            return
        for c in rule.checks:
            try:
                hit = self._expr(c.test).boolean(node, root, variables, rule.xpath2)
                if hit == c.report:
                    message = self._message(c, node, root, variables, rule.xpath2)
                    yield Finding(_line_of(node), c.severity, message, c.id)
            except _evaluation_errors() as exc:
                yield self._not_evaluated(rule.context, exc, node, c.test)

    def _message(self, c: _Check, node: Any, root: etree._Element, variables: dict[str, Any],
                 xpath2: bool) -> str:
        parts = []
        for part in c.message:
            if isinstance(part, str):
                parts.append(part)
            elif part[0] == "name":
                target = self._expr(part[1]).run(node, root, variables, xpath2) if part[1] else [node]
                first = target[0] if isinstance(target, list) and target else node
                parts.append(_qname(first))
            else:
                parts.append(self._expr(part[1]).string(node, root, variables, xpath2))
        return " ".join("".join(parts).split())


def _needs(context: str) -> tuple[tuple[str, str], ...]:
    """Return what must occur in a document for a context to match anything, or () if unsure.

    Each branch of a union must start with ``prefix:name`` (that element is needed) or
    ``prefix:*[@name]`` / ``prefix:name/@attr`` forms (that attribute is needed).
    """
    needs: list[tuple[str, str]] = []
    for branch in _top_level_union(context):
        b = branch.strip()
        if re.match(r"(?:[\w-]+:)?\*\s*\[", b):
            kept = _without_negations(b)
            names = re.findall(r"@([\w-]+)", kept)
            if not names or re.search(r"\bor\b", kept):
                return ()
            needs.extend(("attribute", n) for n in names)
            continue
        m = re.match(r"[\w-]+:([\w-]+)(?![\w(-])", b)
        if m and not b.startswith(("(", "/")):
            needs.append(("element", m.group(1)))
            continue
        if b.startswith("("):  # "( tei:a | tei:b )[…]/…": one of the grouped first steps
            inner = _needs(b[1 : _closing(b)])
            if inner:
                needs.extend(inner)
                continue
        return ()
    return tuple(needs)


def _closing(text: str) -> int:
    """Return the index of the parenthesis that closes the one ``text`` opens with."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return i
    return len(text)


#: A value comparison whose left operand is a single value (an attribute, a count): the
#: same as the general comparison of XPath 1.0, which libxml2 then evaluates.
_VALUE_COMPARISON = re.compile(r"((?:@[\w:-]+|count\([^()]*\))\s+)(eq|ne|lt|le|gt|ge)(?=\s)")
#: The same for a string of the context node (its name, its normalised value), compared
#: for equality only: XPath 1.0's ``<`` compares numbers, XPath 2.0's ``lt`` strings.
_STRING_COMPARISON = re.compile(r"((?:(?:local-)?name|normalize-space)\(\s*\.?\s*\)\s+)(eq|ne)(?=\s)")
_OPERATORS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _as_xpath1(expr: str) -> str:
    """Return the expression with value comparisons of single values written as XPath 1.0."""
    for rx in (_VALUE_COMPARISON, _STRING_COMPARISON):
        expr = rx.sub(lambda m: m.group(1) + _OPERATORS[m.group(2)], expr)
    return expr


def _without_negations(expr: str) -> str:
    """Return the expression with every ``not(...)`` call removed (what it names is not needed)."""
    out = expr
    while True:
        m = re.search(r"\bnot\s*\(", out)
        if not m:
            return out
        depth, i = 1, m.end()
        while i < len(out) and depth:
            depth += {"(": 1, ")": -1}.get(out[i], 0)
            i += 1
        out = out[: m.start()] + out[i:]


def _wider_path(test: str) -> str | None:
    """Return a test that is one location path without its predicates that use ``current()``,
    or None when the test is not such a path, none of its predicates uses ``current()``, or
    what remains depends on the context position or a variable.

    Each step without a predicate selects at least the nodes it selected with it, so where
    the test's node set is not empty the returned one is not either: a report whose wider
    path is empty at a node does not fire there."""
    out: list[str] = []
    i, dropped = 0, False
    while i < len(test):
        ch = test[i]
        if ch == "[":
            depth, quote, j = 0, "", i
            while j < len(test):
                c = test[j]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c == "[":
                    depth += 1
                elif c == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= len(test):
                return None
            predicate = test[i : j + 1]
            if re.search(r"\bcurrent\s*\(", predicate):
                dropped = True
            else:
                out.append(predicate)
            i = j + 1
            continue
        if not (ch.isalnum() or ch in "_:.*/@-"):
            return None  # an operator, a call or a space outside the predicates: not one path
        out.append(ch)
        i += 1
    wider = "".join(out)
    if not dropped or not wider or _POSITIONAL.search(wider):
        return None
    return wider


def _top_level_union(expr: str) -> list[str]:
    depth = 0
    quote = ""
    parts: list[str] = []
    current: list[str] = []
    for ch in expr:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _element_of(node: Any) -> Any:
    if isinstance(node, etree._Element):
        return node
    parent = getattr(node, "getparent", None)
    if parent is not None:
        return parent()
    return getattr(node, "parent", None) and getattr(node.parent, "elem", None)


def _line_of(node: Any) -> int:
    el = _element_of(node)
    return int(getattr(el, "sourceline", 0) or 0)


def _qname(node: Any) -> str:
    if isinstance(node, etree._Element):
        q = etree.QName(node)
        return f"{node.prefix}:{q.localname}" if node.prefix else q.localname
    name = getattr(node, "attrname", None) or getattr(node, "name", None)
    return str(name) if name else str(node)


@cache
def rules_of(path: str) -> RuleSet:
    """Return the rule set of a schema file (once per process)."""
    return RuleSet.load(Path(path))

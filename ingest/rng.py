"""RELAX NG validation of large schemas (tei_all) without compiling all of them.

libxml2 compiles the 1,200 definitions of ``tei_all.rng`` in several seconds before it
can check anything. A document uses a few dozen of its 594 elements, and the verdict on
a document depends only on the patterns that can match something in it: an ``element``
or ``attribute`` pattern whose name never occurs in the document matches nothing there,
exactly like ``notAllowed``. So for a set of documents the schema is *reduced*:

1. annotations (documentation, embedded Schematron) are dropped once per schema;
2. every element and attribute pattern with a plain name that none of the documents
   uses becomes ``notAllowed``, and simplification propagates it (keeping the attribute
   patterns validates faster, but makes libxml2's compilation explode on some sets);
3. definitions no longer reachable from ``start`` are dropped;
4. for a run or a batch of more than a few documents, the attributes of each element are
   written as libxml2 checks them fastest (``_flatten_attributes``): required ones as the
   element's own children, optional ones together in one ``interleave``. The same
   attributes are allowed, only written differently; where the element names of the
   documents are known with the attributes each carries (``document_usage``), an optional
   attribute pattern is kept only in the elements whose name carries it somewhere in the
   documents: elsewhere it matches nothing, as ``empty`` does in its ``optional``.

The reduced grammar accepts exactly the same documents among those given (RELAX NG
semantics, pattern by pattern), and compiles in milliseconds. It is built for the names
of a whole batch at once and cached by those names.

Where a schema uses what this reduction does not reason about (``include``,
``externalRef``, nested grammars), the schema is compiled whole, as before.

The reduced grammar decides valid or invalid. libxml2 reports *where* a document fails
differently once content models are simpler, so the messages of an invalid document come
from the full schema, compiled on first need (once per process).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import marshal
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree

from . import cache as disk
from .errors import Issue, SchemaError

RNG = "http://relaxng.org/ns/structure/1.0"
_R = "{" + RNG + "}"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: A name as (namespace URI, local name); "" is no namespace.
Name = tuple[str, str]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                           remove_pis=True)


def document_names(doc: etree._ElementTree | etree._Element) -> tuple[frozenset[Name], frozenset[Name]]:
    """Return the element names and the attribute names a document uses."""
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc
    tags: set[object] = set()
    keys: set[object] = set()
    for el in root.iter():
        tags.add(el.tag)
        names = el.keys()  # a list made in C: no attribute proxy per element
        if names:
            keys.update(names)
    return (frozenset(_split(t) for t in tags if isinstance(t, str)),
            frozenset(_split(str(k)) for k in keys))


Pair = tuple[Name, Name]


class Usage(NamedTuple):
    """The names a document uses, and which element names carry which attributes."""

    elements: frozenset[Name]
    attributes: frozenset[Name]
    pairs: frozenset[Pair]  # (element name, attribute name)


def document_usage(doc: etree._ElementTree | etree._Element) -> Usage:
    """Return the element and attribute names a document uses, and the pairs of them it has."""
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc
    tags: set[object] = set()
    carried: dict[object, set[object]] = {}
    for el in root.iter():
        names = el.keys()
        if names:
            keys = carried.get(el.tag)
            if keys is None:
                keys = carried[el.tag] = set()
            keys.update(names)
        else:
            tags.add(el.tag)
    pairs = frozenset((_split(t), _split(str(k))) for t, keys in carried.items() if isinstance(t, str)
                      for k in keys)
    return Usage(frozenset(_split(t) for t in tags.union(carried) if isinstance(t, str)),
                 frozenset(a for _, a in pairs), pairs)


@lru_cache(maxsize=4096)  # the same few hundred names, document after document
def _split(clark: str) -> Name:
    if clark.startswith("{"):
        ns, _, local = clark[1:].partition("}")
        return ns, local
    return "", clark


class _Pattern(NamedTuple):
    """An element or attribute pattern with a plain name, found in the template."""

    position: int  # position among the template's element/attribute nodes, in document order
    name: Name
    attribute: bool


#: XML's white space (a no-break space, or Unicode's other spaces, is text RELAX NG does not ignore).
XML_SPACE = " \t\r\n"

def _collapsed(value: str) -> str:
    """A value with its runs of XML white space made one space and none at its ends (an ID's,
    a token's); Python's split() would also take a no-break space for white space."""
    return " ".join(t for t in _XML_SPACES.split(value) if t)


_XML_SPACES = re.compile("[ \t\r\n]+")

#: Bumped whenever the reduction changes, so that cached reductions are not reused.
ALGORITHM = "15"


class Grammar:
    """A RELAX NG schema prepared for reduction: annotations dropped, named patterns indexed.

    The prepared form and each reduction are kept in the disk cache (``ingest.cache``)
    under the schema's sha256, so a later run starts from them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.sha256, self._data = disk.file_sha256(path)
        except OSError as exc:
            raise SchemaError(Issue("schema.missing", str(path), f"cannot be read: {exc.strerror}")) from None
        self._template: etree._ElementTree | None = None
        index = disk.read("rng", self._key, "index.marshal")
        try:
            if index is None:
                raise ValueError("not cached")
            reducible, rows = marshal.loads(index)
            self.known = frozenset((ns, n) for _, ns, n, _ in rows)
            self.reducible = bool(reducible)
        except (ValueError, TypeError, EOFError):  # not cached, or damaged: index the schema again
            tree = self.template
            root = tree.getroot()
            self.reducible = root.tag == _R + "grammar" and not any(
                True for _ in root.iter(_R + "include", _R + "externalRef", _R + "parentRef")
            ) and sum(1 for _ in root.iter(_R + "grammar")) == 1
            rows = [(p.position, p.name[0], p.name[1], p.attribute) for p in self._index(root)]
            self.known = frozenset((ns, n) for _, ns, n, _ in rows)
            disk.write(etree.tostring(tree), "rng", self._key, "grammar.rng")
            disk.write(marshal.dumps((self.reducible, rows)), "rng", self._key, "index.marshal")
        self._rows = rows
        #: the names last asked for and their validator: a run asks for the same sets again and again
        self._last: tuple[frozenset[Name], frozenset[Name], bool, frozenset[Pair] | None, etree.RelaxNG] | None \
            = None
        self._patterns: tuple[_Pattern, ...] | None = None
        self._defines: dict[str, list[etree._Element]] | None = None
        self._allowed: dict[Name, frozenset[Name] | None] = {}
        self._wild: dict[Name, list[etree._Element]] = {}
        self._element_names: frozenset[Name] | None = None
        self._start_names: frozenset[Name] | None = None
        self._attribute_patterns: dict[Name, dict[Name, list[etree._Element]]] = {}
        self._value_schemas: dict[tuple[Name, Name], etree.RelaxNG | None] = {}

    @property
    def _elements(self) -> frozenset[Name]:
        """The plain names of the schema's element patterns (made once, for an invalid document)."""
        if self._element_names is None:
            self._element_names = frozenset(p.name for p in self.patterns if not p.attribute)
        return self._element_names

    @property
    def patterns(self) -> tuple[_Pattern, ...]:
        """The element and attribute patterns with a plain name (made on first need: a cached
        reduction does not need them)."""
        if self._patterns is None:
            self._patterns = tuple(_Pattern(i, (ns, n), bool(a)) for i, ns, n, a in self._rows)
        return self._patterns

    @property
    def _key(self) -> str:
        return f"{self.sha256}-{ALGORITHM}"

    @property
    def template(self) -> etree._ElementTree:
        """Return the grammar without annotations (parsed on first need)."""
        if self._template is None:
            cached = disk.read("rng", self._key, "grammar.rng")
            try:
                if cached is not None:
                    self._template = etree.ElementTree(etree.fromstring(cached, _parser()))
                else:
                    data = self._data if self._data is not None else self.path.read_bytes()
                    tree = etree.ElementTree(etree.fromstring(data, _parser(), base_url=str(self.path)))
                    _strip_annotations(tree.getroot())
                    _patterns_as_jing(tree.getroot())
                    self._template = tree
            except etree.XMLSyntaxError as exc:
                raise SchemaError(Issue("schema.invalid", str(self.path), f"is not well-formed XML: {exc}")) from None
        return self._template

    @staticmethod
    def _index(root: etree._Element) -> Iterable[_Pattern]:
        for i, el in enumerate(root.iter(_R + "element", _R + "attribute")):
            attribute = el.tag == _R + "attribute"
            name = _plain_name(el, attribute)
            if name is not None:
                yield _Pattern(i, name, attribute)

    def reduced(self, elements: frozenset[Name], attributes: frozenset[Name], flat: bool = True,
                pairs: frozenset[Pair] | None = None, stubs: frozenset[Name] = frozenset()) -> etree._ElementTree:
        """Return the grammar with every pattern no given name can match replaced by notAllowed.

        ``flat``: with the attributes written as libxml2 checks them fastest
        (``_flatten_attributes``), which makes the grammar compile in about twice the time:
        worth it for more than a few documents; ``pairs``: the (element, attribute) names the
        documents have together, when known (see ``_flatten_attributes``); ``stubs``: names
        of elements the documents do not have, kept with empty content (see ``wording``).
        """
        tree = copy.deepcopy(self.template)
        root = tree.getroot()
        nodes = list(root.iter(_R + "element", _R + "attribute"))
        for p in self.patterns:
            if p.name in (attributes if p.attribute else elements | stubs):
                continue
            node = nodes[p.position]
            parent = node.getparent()
            if parent is None:
                continue
            stub = etree.Element(_R + "notAllowed")
            stub.tail = node.tail
            parent.replace(node, stub)
        if stubs:
            for el in list(root.iter(_R + "element")):
                if _plain_name(el, False) in stubs:
                    for k in _patterns(el):
                        el.remove(k)
                    etree.SubElement(el, _R + "empty")
        impaired: set[Name] | None = None if flat else set()
        _simplify(root, impaired)
        # the documents' elements that no pattern can match any more (see wording); those
        # that only became unreachable still have a pattern here
        live = {_plain_name(el, False) for el in root.iter(_R + "element")}
        dead = sorted((elements & self._elements) - live)  # not a no-namespace name only attributes have
        if dead:
            root.set(_DEAD, " ".join(f"{{{ns}}}{n}" for ns, n in dead))
        if impaired:
            kept = sorted((impaired & elements & live) - stubs)
            if kept:
                root.set(_IMPAIRED, " ".join(f"{{{ns}}}{n}" for ns, n in kept))
        _drop_unreachable(root)
        if flat:
            _flatten_attributes(root, pairs)
        return tree

    def reduced_bytes(self, elements: frozenset[Name], attributes: frozenset[Name], flat: bool = True,
                      pairs: frozenset[Pair] | None = None, stubs: frozenset[Name] = frozenset()) -> bytes:
        """Return the reduced grammar as XML, from the cache when it was made before."""
        elements, attributes = elements & self.known, attributes & self.known
        pairs = _known_pairs(pairs, elements) if flat else None
        stubs = (stubs & self.known) - elements
        listed = [f"{{{ns}}}{n}" for ns, n in sorted(elements)]
        listed += ["--"] + [f"@{{{ns}}}{n}" for ns, n in sorted(attributes)]
        if pairs is not None:
            listed += ["--"] + [f"{{{e[0]}}}{e[1]}@{{{a[0]}}}{a[1]}" for e, a in sorted(pairs)]
        if stubs:
            listed += ["--stubs"] + [f"{{{ns}}}{n}" for ns, n in sorted(stubs)]
        entry = hashlib.sha256("\n".join(listed).encode()).hexdigest() + ("-flat" if flat else "") + ".rng"
        cached = disk.read("rng", self._key, "reduced", entry)
        if cached is not None:
            return cached
        data = etree.tostring(self.reduced(elements, attributes, flat, pairs, stubs))
        disk.write(data, "rng", self._key, "reduced", entry)
        return data

    def wording(self, elements: frozenset[Name], attributes: frozenset[Name], root: Name | None = None,
                doc: etree._ElementTree | None = None) -> etree.RelaxNG | None:
        """Return the schema that words the errors of an invalid document with these names, or
        None when only the full schema can.

        It is the plain reduction (attributes not flattened): the content model of each of
        the document's elements keeps the shape it has in the full schema, so libxml2
        compiles it into an automaton as it does there and fails at the same node with the
        same kind of error. An element whose required child or attribute never occurs in
        the document has no pattern left in that reduction: libxml2 would fail at its
        parent, or with no message for the root, where the full schema says what is
        missing. Such an element gets back every name its content refers to: the elements
        as stubs (kept with empty content: they never occur in the document), so that its
        automaton is the full schema's, and the attributes; and so on for a few rounds,
        after which the full schema words the document. Likewise an element of ``doc``
        whose content fails where the reduction lost a part of its content model that
        could still match (``handDesc`` with a ``summary`` and no ``handNote``: the branch
        of ``summary`` is gone, and libxml2 would refuse the ``summary`` instead of saying
        that ``handNote`` is missing).

        A ``root`` the schema does not start with (TEI in no namespace, a P4 ``TEI.2``) is
        refused before anything inside it is looked at: the start's elements as stubs and
        nothing else word it as the full schema does.
        """
        if not self.reducible:
            return None
        elements, attributes = elements & self.known, attributes & self.known
        stubs: frozenset[Name] = frozenset()
        if root is not None:
            start = self._start()
            if root not in start:
                elements, attributes, stubs = frozenset(), frozenset(), start
        fallback: etree.RelaxNG | None = None  # words every element, some less like the full schema
        for _ in range(4):
            compiled = _compile_reduced(self, elements, attributes, False, None, stubs)
            dead = _DEAD_NAMES.get(id(compiled), frozenset())
            if not dead:
                impaired = _IMPAIRED_NAMES.get(id(compiled), frozenset())
                if doc is None or not impaired or compiled.validate(doc):
                    return compiled
                dead = impaired & _failed_content(doc, compiled.error_log)
                if not dead:
                    return compiled
                fallback = compiled
            more_elements, more_attributes = self._referred(dead)
            grown = stubs | (more_elements - elements), attributes | more_attributes
            if grown == (stubs, attributes):
                return fallback
            stubs, attributes = grown
        return fallback

    def _start(self) -> frozenset[Name]:
        """The element names the grammar starts with, from the disk cache after the first
        time (an invalid document then does not read the prepared schema for them)."""
        if self._start_names is not None:
            return self._start_names
        cached = disk.read("rng", self._key, "start.marshal")
        if cached is not None:
            try:
                self._start_names = frozenset((str(ns), str(n)) for ns, n in marshal.loads(cached))
                return self._start_names
            except (ValueError, TypeError, EOFError):
                pass  # damaged: made again
        self._start_names, _ = self._referred(None)
        disk.write(marshal.dumps(sorted(self._start_names)), "rng", self._key, "start.marshal")
        return self._start_names

    def _referred(self, names: frozenset[Name] | None) -> tuple[frozenset[Name], frozenset[Name]]:
        """Return the element and attribute names the content of the named elements' patterns
        refers to (through definitions, not into the elements it contains); None: those the
        grammar's start refers to."""
        elements, attributes, _, _ = self._walk(names)
        return elements & self.known, attributes & self.known

    def takes_any_element(self, name: Name) -> bool:
        """Whether the content of the named element's patterns takes elements by a name class
        (egXML's: any element outside the TEI namespace)."""
        return bool(self._classes(name))

    def takes_by_class(self, name: Name, child: Name) -> bool:
        """Whether a name class of the named element's content takes the child's name."""
        return any(_in_class(c, child) for c in self._classes(name))

    def _classes(self, name: Name) -> list[etree._Element]:
        if name not in self._wild:
            self._wild[name] = self._walk(frozenset({name}))[3]
        return self._wild[name]

    def _walk(self, names: frozenset[Name] | None, patterns: dict[Name, list[etree._Element]] | None = None
              ) -> tuple[frozenset[Name], frozenset[Name], bool, list[etree._Element]]:
        """``_referred``'s names, not yet limited to the known ones, whether every attribute
        pattern met has a plain name (not a name class), and the name classes of the element
        patterns met that have one; each attribute's patterns go into ``patterns`` when given."""
        root = self.template.getroot()
        defines = self._define_index()
        found_elements: set[Name] = set()
        found_attributes: set[Name] = set()
        plain = True
        wild: list[etree._Element] = []
        seen: set[str] = set()
        stack = [k for el in root.iter(_R + "start") for k in _patterns(el)] if names is None else \
            [k for el in root.iter(_R + "element") if _plain_name(el, False) in names for k in _patterns(el)]
        while stack:
            node = stack.pop()
            if node.tag == _R + "ref":
                name = node.get("name", "")
                if name not in seen:
                    seen.add(name)
                    stack.extend(k for d in defines.get(name, ()) for k in _patterns(d))
            elif node.tag in (_R + "element", _R + "attribute"):
                found = _plain_name(node, node.tag == _R + "attribute")
                if found is None and node.tag == _R + "attribute":
                    found = _prefixed_name(node)
                if found is not None:
                    (found_attributes if node.tag == _R + "attribute" else found_elements).add(found)
                    if patterns is not None and node.tag == _R + "attribute":
                        patterns.setdefault(found, []).append(node)
                elif node.tag == _R + "attribute":
                    plain = False
                else:
                    wild.extend(c for c in itertools.islice(node, 1) if isinstance(c.tag, str))
            else:
                stack.extend(k for k in node if isinstance(k.tag, str))
        return frozenset(found_elements), frozenset(found_attributes), plain, wild

    def _define_index(self) -> dict[str, list[etree._Element]]:
        """The prepared template's definitions by name (made once)."""
        if self._defines is None:
            self._defines = {}
            for d in self.template.getroot().iter(_R + "define"):
                self._defines.setdefault(d.get("name", ""), []).append(d)
        return self._defines

    def unchecked_attributes(self, doc: etree._ElementTree, entries: Sequence[Any]) -> list[Any]:
        """Return the errors libxml2 leaves out on attributes the schema does not allow.

        libxml2 checks an element's attributes after its content, and where a content
        model compiled to an automaton fails (a required child missing), it never checks
        them, while jing reports such an attribute first, at the start tag. So each
        element whose content libxml2 failed is looked at here: an attribute
        whose name no pattern of its element has, or whose value none of its patterns for
        that attribute takes, or an xml:id an element before it has, is an error as libxml2
        would word it. An element the schema
        does not know, or whose attributes take a name class, is left to libxml2.
        """
        reported = {(e.path, str(e.message)) for e in entries}
        seen: set[etree._Element] = set()
        first: dict[str, etree._Element] = {}

        def ids(doc: etree._ElementTree) -> dict[str, etree._Element]:  # each xml:id's first element
            if not first:
                for el in doc.getroot().iter(etree.Element):
                    value = el.get(_XML_ID_KEY)
                    if value is not None:
                        first.setdefault(_collapsed(value), el)
            return first

        out: list[_Entry] = []
        for e in entries:
            if _INVALID_ATTRIBUTE.match(str(e.message)):
                continue  # its element's attributes were looked at
            nodes = _nodes(doc, e.path)
            if not nodes:
                continue
            named = _named(e)
            looked_at: list[etree._Element | None] = [nodes[0]]
            if e.type_name in _WRONG_CHILD and named and etree.QName(nodes[0]).localname == named:
                looked_at = [nodes[0].getparent()]  # not allowed where it is: its attributes are not looked at
            elif e.type_name == _EXTRA:
                looked_at = [nodes[0], nodes[0].getparent()]  # extra content, and the element whose content failed
            for node in looked_at:
                if node is None or node in seen:
                    continue
                seen.add(node)
                name = _split(node.tag)
                allowed = self._attributes_of(name) if name in self._elements else None
                if allowed is None:
                    continue
                for key, value in node.attrib.items():
                    attribute = _split(str(key))
                    if attribute not in allowed or not self._value_allowed(name, attribute, str(value)) or (
                            attribute == _XML_ID and self._is_id(name)
                            and ids(doc).get(_collapsed(str(value)), node) is not node):
                        path = doc.getpath(node)
                        message = f"Invalid attribute {attribute[1]} for element {name[1]}"
                        if (path, message) not in reported:
                            line = node.sourceline
                            out.append(_Entry(line if isinstance(line, int) else 0, 0,
                                              "RELAXNG_ERR_INVALIDATTR", message, path))
        return out

    def first_wrong_child(self, doc: etree._ElementTree, schema: etree.RelaxNG, node: etree._Element
                          ) -> etree._Element | None:
        """Return the child jing stops at where libxml2 says only that the node's content
        failed, or None to leave it to libxml2's pointers.

        libxml2 may blame a good child (a ``person`` of a ``listPerson`` where a later
        ``persName`` is at fault). Where a child has a name the node's patterns never allow,
        the first child jing refuses is at it or before it: the node is checked with its
        children cut after the first k, and the smallest k that fails gives that child
        (a binary search; the document is put back as it was). Where libxml2 says it of a
        child instead (a good ``bibl`` of a ``listBibl`` that holds a ``p`` after it), and the
        node's other children are good once those of names it never allows are taken out,
        jing stops at the first of those.
        """
        name = _split(node.tag)
        if name not in self._elements:
            return None
        allowed, _ = self._referred(frozenset({name}))
        children = list(node.iterchildren(etree.Element))
        outside = next((i for i, c in enumerate(children) if _split(c.tag) not in allowed), None)
        if outside is None:
            return None
        path = doc.getpath(node)

        def fails(k: int) -> bool:
            with _taken_out(node, children[k:]):
                schema.validate(doc)
                return any(e.path == path and e.type_name in _WRONG_CHILD for e in schema.error_log)

        if not fails(outside + 1):
            return children[outside] if self._good_without(doc, schema, node, path, allowed) else None
        return children[_first_failing(1, outside + 1, fails) - 1]

    @staticmethod
    def _good_without(doc: etree._ElementTree, schema: etree.RelaxNG, node: etree._Element, path: str,
                      allowed: frozenset[Name]) -> bool:
        """Whether the node's content is good, and none of its children said to be wrong,
        once its children of names it never allows are taken out (then put back)."""
        prefix = path + "/"
        return not any(e.path == path or ("/" not in e.path[len(prefix):] and e.type_name in _WRONG_CHILD | {_EXTRA})
                       for e in _left_without(doc, schema, node, path,
                                              [c for c in node.iterchildren(etree.Element)
                                               if _split(c.tag) not in allowed]))

    def _attributes_of(self, element: Name) -> frozenset[Name] | None:
        """Return the attribute names the element's patterns allow, None where a name class does."""
        if element not in self._allowed:  # the template is read only for an invalid document
            patterns: dict[Name, list[etree._Element]] = {}
            _, attributes, plain, _ = self._walk(frozenset({element}), patterns)
            self._allowed[element] = attributes if plain else None
            self._attribute_patterns[element] = patterns
        return self._allowed[element]

    def _value_allowed(self, element: Name, attribute: Name, value: str) -> bool:
        """Whether a value matches one of the element's patterns for the attribute: a
        grammar of those patterns alone (and the definitions they refer to), compiled once."""
        key = (element, attribute)
        if key not in self._value_schemas:
            self._value_schemas[key] = self._value_schema(self._attribute_patterns.get(element, {}).get(attribute, []))
        schema = self._value_schemas[key]
        if schema is None:
            return True  # left to libxml2
        probe = etree.Element("probe")
        probe.set(f"{{{attribute[0]}}}{attribute[1]}" if attribute[0] else attribute[1], value)
        return bool(schema.validate(etree.ElementTree(probe)))

    def _is_id(self, element: Name) -> bool:
        """Whether the element's xml:id is an ID (its value the document's only such)."""
        return any(d.get("type") == "ID" for pattern in self._attribute_patterns.get(element, {}).get(_XML_ID, [])
                   for d in pattern.iter(_R + "data"))

    def _value_schema(self, patterns: list[etree._Element]) -> etree.RelaxNG | None:
        if not patterns:
            return None
        root = self.template.getroot()
        grammar = etree.Element(_R + "grammar", nsmap={k: v for k, v in root.nsmap.items() if k})
        choice = etree.SubElement(etree.SubElement(etree.SubElement(grammar, _R + "start"), _R + "element",
                                                   name="probe", ns=""), _R + "choice")
        wanted: list[str] = []

        def take(node: etree._Element, into: etree._Element) -> None:  # a copy, with its datatype library
            part = copy.deepcopy(node)
            part.set("datatypeLibrary", _inherited(node, "datatypeLibrary") or "")
            into.append(part)
            wanted.extend(r.get("name", "") for r in part.iter(_R + "ref"))

        for pattern in patterns:
            take(pattern, choice)
        done: set[str] = set()
        defines = self._define_index()
        while wanted:
            name = wanted.pop()
            if name not in done:
                done.add(name)
                for d in defines.get(name, ()):
                    take(d, grammar)
        try:
            return etree.RelaxNG(etree.ElementTree(grammar))
        except etree.RelaxNGParseError:
            return None

    def validator(self, elements: frozenset[Name], attributes: frozenset[Name], flat: bool = True,
                  pairs: frozenset[Pair] | None = None) -> etree.RelaxNG:
        """Return the compiled schema for documents that use only these names (``flat``,
        ``pairs``: see ``reduced``)."""
        if not self.reducible:
            return compile_full(str(self.path))
        last = self._last
        if last is not None and last[0] is elements and last[1] is attributes and last[2] == flat \
                and last[3] is pairs:
            return last[4]
        known = elements & self.known, attributes & self.known
        found = _compile_reduced(self, *known, flat, _known_pairs(pairs, known[0]) if flat else None)
        self._last = (elements, attributes, flat, pairs, found)
        return found


@contextmanager
def _taken_out(node: etree._Element, children: Sequence[etree._Element]) -> Iterator[None]:
    """Take children out of node (each with its tail) for a check, then put them back."""
    places = [node.index(c) for c in children]
    for c in children:
        node.remove(c)
    try:
        yield
    finally:
        for place, c in zip(places, children, strict=True):
            node.insert(place, c)


#: Each entry keeps its schema, so that the schema's id is not another's while it is cached
#: (a schema dropped from _REDUCED and freed would otherwise hand its id, and these
#: grammars, to the next one compiled).
_REROOTED: dict[tuple[int, Name], tuple[etree.RelaxNG, etree.RelaxNG | None]] = {}


def _rerooted(g: Grammar, schema: etree.RelaxNG, name: Name) -> etree.RelaxNG | None:
    """Return the grammar of ``schema`` started at the element ``name`` (its patterns of
    that name, defined as they are there), or None where that cannot be made."""
    key = (id(schema), name)
    cached = _REROOTED.get(key)
    if cached is not None and cached[0] is schema:
        return cached[1]
    if len(_REROOTED) >= 64:
        _REROOTED.pop(next(iter(_REROOTED)))
    source = _TREES.get(id(schema))
    if source is None and g.reducible and schema is _FULL.get(str(g.path)):
        source = g.template.getroot()
    found: etree.RelaxNG | None = None
    if source is not None:
        root = copy.deepcopy(source)
        targets = [el for el in root.iter(_R + "element") if _plain_name(el, False) == name]
        starts = list(root.iter(_R + "start"))
        if targets and len(starts) == 1 and starts[0].getparent() is root:
            choice = etree.Element(_R + "choice")
            for el in targets:
                part = copy.deepcopy(el)
                part.set("datatypeLibrary", _inherited(el, "datatypeLibrary") or "")
                if part.get("name") is not None:
                    part.set("ns", name[0])
                choice.append(part)
            starts[0].clear()
            starts[0].append(choice)
            try:
                found = etree.RelaxNG(etree.ElementTree(root))
            except etree.RelaxNGParseError:
                found = None
    _REROOTED[key] = (schema, found)
    return found


#: libxml2's error for an element whose content failed, naming nothing inside it.
_CONTENT_FAILED = "RELAXNG_ERR_CONTENTVALID"
#: libxml2's error for a node its parent could not take after the children it took.
_EXTRA = "RELAXNG_ERR_EXTRACONTENT"
#: "Element x failed to validate attributes": its own attributes (a required one missing),
#: which jing reports at its start tag, before anything inside it.
_ATTRIBUTES_FAILED = "RELAXNG_ERR_ATTRVALID"


def _looked_inside(doc: etree._ElementTree, entries: list[Any], g: Grammar, schema: etree.RelaxNG
                   ) -> list[Any]:
    """Return libxml2's errors, with the errors inside an element where libxml2 says only
    that its content failed, or that it is extra content of its parent.

    libxml2 checks a child against its patterns inside its parent's content model and, where
    the child fails inside (a ``place`` of a ``listPlace`` with a ``hi`` its ``location``
    does not allow), it may keep none of the child's errors: "Element listPlace failed to
    validate content", where jing reports the ``hi``; or keep a later one only (the
    ``idno`` after an ``addrLine`` with an attribute it does not take). So such an
    element's children are checked each on its own, against the grammar started at the
    child's name; the first that fails is looked into the same way until libxml2 says what
    is wrong, and what it says is put after the parent's error, the paths made the
    document's. A child libxml2 calls extra content ("listPlace has extra content: place",
    after "Did not expect element place there" of a good ``place`` before it) is checked
    on its own likewise, where libxml2 says nothing inside it; if it is good so, the
    children after it are, and the first that fails is the extra content (libxml2 may
    point at a good child before the one at fault).
    """
    # the paths with another error than this one (a wrong child said of it): not looked inside
    said = {e.path for e in entries if e.path and e.type_name != _CONTENT_FAILED}
    known = {(e.path, str(e.message)) for e in entries}
    out: list[Any] = []
    looked = 0
    for e in entries:
        out.append(e)
        if not e.path or looked >= 3:
            continue
        if e.type_name == _CONTENT_FAILED and (
                e.path not in said or _only_said_of_a_good_child(doc, e, entries, g, schema)):
            nodes = _nodes(doc, e.path)
            if nodes:
                looked += 1
                out.extend(x for x in _inside(doc, nodes[0], g, schema) if (x.path, x.message) not in known)
        elif e.type_name == _EXTRA:
            found = _extra_inside(doc, e, entries, g, schema)
            if found is not None:
                looked += 1
                out[-1] = found[0]
                out.extend(x for x in found[1] if (x.path, x.message) not in known)
    return out


#: The children checked on their own from the one libxml2 calls extra content.
_SIBLINGS_TRIED = 64


def _extra_inside(doc: etree._ElementTree, e: Any, entries: Sequence[Any], g: Grammar, schema: etree.RelaxNG
                  ) -> tuple[Any, list[Any]] | None:
    """For libxml2's "extra content" error ``e``, the error to stand for it (itself, or said
    of the child at fault after it) and the errors inside that child, as
    ``_looked_inside`` finds them; None where it is not looked into."""
    nodes = _nodes(doc, e.path)
    if not nodes or not isinstance(nodes[0].tag, str):
        return None
    first = nodes[0]
    # "Did not expect element x there" of it too: only where it is in its place
    also = [o for o in entries if o is not e and o.path == e.path]
    if also and (any(o.type_name not in _WRONG_CHILD or _named(o) != etree.QName(first).localname for o in also)
                 or not _in_its_place(doc, first, g, schema)):
        return None
    parent = first.getparent()
    owner = _split(parent.tag) if parent is not None else None
    taken = g._referred(frozenset({owner}))[0] if owner in g._elements else None
    for k, el in enumerate(itertools.chain((first,), first.itersiblings(etree.Element))):
        if k >= _SIBLINGS_TRIED:
            break
        said = e if el is first else _moved(doc, el, e)
        if owner is not None and _split(el.tag) not in g._elements and g.takes_any_element(owner):
            # matched by a name class (egXML's, xenoData's content): one of the schema's own
            # elements inside is what such name classes leave out, or a name they do not take
            # (xenoData's leaves out no namespace)
            named = next((d for d in el.iter(etree.Element) if _split(d.tag) in g._elements
                          or not g.takes_by_class(owner, _split(d.tag))), None)
            if named is None:
                continue
            line = named.sourceline if isinstance(named.sourceline, int) else e.line
            return said, [_Entry(line, 0, "RELAXNG_ERR_ELEMWRONG",
                                 f"Did not expect element {etree.QName(named).localname} there", doc.getpath(named))]
        if taken is not None and parent is not None and _split(el.tag) not in taken:
            # a name the parent never takes: jing stops there if the others are good without it
            good = el is not first and g._good_without(doc, schema, parent, doc.getpath(parent), taken)
            return (said if good else _stray_text(doc, parent, g, schema, taken) or e), []
        state, found = _alone(doc, el, g, schema)
        if state == "unchecked":
            break
        if state == "good":
            continue
        return said, (_inside(doc, el, g, schema) if state == "content" else found)
    stray = parent is not None and taken is not None and _stray_text(doc, parent, g, schema, taken)
    if stray:
        return stray, []
    later = _first_refused_after(doc, schema, first) if parent is not None else None
    return (e if later is None else _moved(doc, later, e)), []


#: How many children ``_first_refused_after`` looks at (each look is a check of the document).
_PREFIXES_TRIED = 4096


def _first_refused_after(doc: etree._ElementTree, schema: etree.RelaxNG, first: etree._Element
                         ) -> etree._Element | None:
    """The first child after ``first``, good on its own like those before it, that its
    parent refuses where it is (a ``head`` after the ``bibl``s of a ``listBibl``, where
    libxml2 calls a good ``bibl`` extra content): the shortest run of the parent's
    children from its first that libxml2 refuses a child of, cut after each (a binary
    search; the children cut are put back). None where it is not one after ``first``."""
    parent = first.getparent()
    assert parent is not None
    children = list(parent.iterchildren(etree.Element))
    if len(children) > _PREFIXES_TRIED:
        return None
    path = doc.getpath(parent)

    def refused(k: int) -> bool:  # with only the first k children
        with _taken_out(parent, children[k:]):
            schema.validate(doc)
            return any((e.path == path and e.type_name in _WRONG_CHILD)
                       or (e.type_name == _EXTRA and e.path and e.path.rsplit("/", 1)[0] == path)
                       for e in schema.error_log)

    start = children.index(first) + 1
    if len(children) <= start or refused(start) or not refused(len(children)):
        return None
    return children[_first_failing(start + 1, len(children), refused) - 1]


def _first_failing(low: int, high: int, fails: Callable[[int], bool]) -> int:
    """The smallest k in [low, high] for which ``fails(k)``, which holds at ``high`` and, once
    it holds, for every larger k (a binary search)."""
    while low < high:
        middle = (low + high) // 2
        if fails(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _stray_text(doc: etree._ElementTree, parent: etree._Element, g: Grammar, schema: etree.RelaxNG,
                taken: frozenset[Name]) -> _Entry | None:
    """The error of text the parent does not take, where that text comes before any child
    of a name it never takes and the parent, on its own, is good without both (a
    ``listPerson`` with stray text after its last ``person``, which libxml2 calls extra
    content); None otherwise."""
    texts = [parent.text, *(c.tail for c in parent.iterchildren())]
    kids = list(parent.iterchildren())
    for k, text in enumerate(texts):
        if text and text.strip(XML_SPACE):
            break
        if k < len(kids) and isinstance(kids[k].tag, str) and _split(kids[k].tag) not in taken:
            return None  # a child at fault before any text
    else:
        return None
    rerooted = _rerooted(g, schema, _split(parent.tag))
    if rerooted is None:
        return None
    trial = copy.deepcopy(parent)
    trial.tail = None
    _without_text(trial)
    for c in list(trial.iterchildren(etree.Element)):
        if _split(c.tag) not in taken:
            trial.remove(c)
    if not rerooted.validate(etree.ElementTree(trial)):
        return None
    line = parent.sourceline if isinstance(parent.sourceline, int) else 0
    return _Entry(line, 0, "RELAXNG_ERR_TEXTWRONG", f"Did not expect text in element {etree.QName(parent).localname} "
                  "content", doc.getpath(parent))


def _without_text(el: etree._Element) -> None:
    """Drop the text directly inside an element (before and between its children)."""
    el.text = None
    for child in el:
        child.tail = None


def _moved(doc: etree._ElementTree, el: etree._Element, said: Any) -> _Entry:
    """libxml2's "extra content" error said of a good child before el, said of el."""
    parent = el.getparent()
    return _Entry(el.sourceline if isinstance(el.sourceline, int) else said.line, 0, _EXTRA,
                  f"Element {etree.QName(parent).localname if parent is not None else ''} has extra content: "
                  f"{etree.QName(el).localname}", doc.getpath(el))


def _in_its_place(doc: etree._ElementTree, el: etree._Element, g: Grammar, schema: etree.RelaxNG) -> bool:
    """Whether el's parent takes it where it is, libxml2 having said that it did not
    expect it there (as it does of a child that fails inside): a copy of el made good on
    its own, the elements, attributes and text its errors point at taken out, is put in
    its place (then taken back), and leaves no error at el."""
    rerooted = _rerooted(g, schema, _split(el.tag))
    parent = el.getparent()
    if rerooted is None or parent is None:
        return False
    trial = copy.deepcopy(el)
    trial.tail = None  # (text after it is its parent's)
    alone = etree.ElementTree(trial)
    for _ in range(8):
        if rerooted.validate(alone):
            break
        changed = False
        for e in rerooted.error_log:
            nodes = _nodes(alone, e.path)
            if not nodes:
                continue
            node, above = nodes[0], nodes[0].getparent()
            if node is not trial and above is not None:
                above.remove(node)  # (the error's nodes in this tree are then gone)
                changed = True
                break
            m = _INVALID_ATTRIBUTE.match(str(e.message))
            keys = [k for k in trial.attrib if m and etree.QName(k).localname == m.group(1)]
            if keys:
                for k in keys:
                    del trial.attrib[k]
                changed = True
                break
            if e.type_name == "RELAXNG_ERR_TEXTWRONG" or str(e.message).endswith("extra content: text"):
                _without_text(trial)
                changed = True
                break
        if not changed:
            return False
    else:
        return False
    path, up, name = doc.getpath(el), doc.getpath(parent), etree.QName(el).localname
    trial.tail = el.tail
    parent.replace(el, trial)
    try:
        return schema.validate(doc) or not any(
            e.path == path or (e.path == up and e.type_name in _WRONG_CHILD and _named(e) == name)
            for e in schema.error_log)
    finally:
        parent.replace(trial, el)


def _only_said_of_a_good_child(doc: etree._ElementTree, failed: Any, entries: Sequence[Any], g: Grammar,
                               schema: etree.RelaxNG) -> bool:
    """Whether the other errors libxml2 says at an element whose content failed only name a
    child that is in its place there ("Did not expect element bibl there" of a listBibl
    whose bibl fails inside): the element is then looked inside."""
    also = [o for o in entries if o is not failed and o.path == failed.path]
    named = {_named(o) for o in also}
    if not also or any(o.type_name not in _WRONG_CHILD for o in also) or len(named) != 1 or None in named:
        return False
    nodes = _nodes(doc, failed.path)
    child = next((c for c in nodes[0].iterchildren(etree.Element) if etree.QName(c).localname in named), None) \
        if nodes else None
    return child is not None and _in_its_place(doc, child, g, schema)


def _inside(doc: etree._ElementTree, node: etree._Element, g: Grammar, schema: etree.RelaxNG) -> list[_Entry]:
    """The errors of the first child of ``node`` that fails on its own, as ``_looked_inside`` finds them."""
    for _ in range(256):
        name = _split(node.tag)
        taken = g._referred(frozenset({name}))[0] if name in g._elements else None
        for child in node.iterchildren(etree.Element):
            if taken is not None and _split(child.tag) not in taken and not g.takes_by_class(name, _split(child.tag)):
                # a child of a name the node never takes: jing stops there; said so where the node is
                # good, or only incomplete, without such children (else libxml2's errors stand)
                if not _at_most_incomplete_without(doc, schema, node, g, taken):
                    return []
                line = child.sourceline if isinstance(child.sourceline, int) else 0
                return [_Entry(line, 0, "RELAXNG_ERR_ELEMWRONG",
                               f"Did not expect element {etree.QName(child).localname} there", doc.getpath(child))]
            state, found = _alone(doc, child, g, schema)
            if state == "unchecked":
                return []
            if state == "content":
                node = child  # only "failed to validate content" again: look inside it
                break
            if state == "failed":
                return found
        else:
            return []  # no child fails on its own: the parent's content as a whole
    return []


def _at_most_incomplete_without(doc: etree._ElementTree, schema: etree.RelaxNG, node: etree._Element, g: Grammar,
                                taken: frozenset[Name]) -> bool:
    """Whether, its children of names it never takes out (then put back), the node has no
    error but that of missing content at its end (a ``content`` holding only a ``foo``)."""
    path, name = doc.getpath(node), _split(node.tag)
    out = [c for c in node.iterchildren(etree.Element)
           if _split(c.tag) not in taken and not g.takes_by_class(name, _split(c.tag))]
    return all(e.path == path and e.type_name in ("RELAXNG_ERR_NOELEM", _CONTENT_FAILED)
               for e in _left_without(doc, schema, node, path, out))


def _left_without(doc: etree._ElementTree, schema: etree.RelaxNG, node: etree._Element, path: str,
                  out: Sequence[etree._Element]) -> list[Any]:
    """libxml2's errors at the node (its path) or inside it, with the children ``out``
    taken out of it (then put back); none where the document is then valid."""
    with _taken_out(node, out):
        if schema.validate(doc):
            return []
        return [e for e in schema.error_log if e.path and (e.path == path or e.path.startswith(path + "/"))]


def _in_class(nc: etree._Element, name: Name) -> bool:
    """Whether a RELAX NG name class takes the name."""
    tag = nc.tag
    if tag == _R + "name":
        declared = nc.get("ns")
        return (declared if declared is not None else _inherited_ns(nc), (nc.text or "").strip()) == name
    if tag == _R + "choice":
        return any(_in_class(c, name) for c in nc if isinstance(c.tag, str))
    if tag in (_R + "anyName", _R + "nsName"):
        if tag == _R + "nsName":
            declared = nc.get("ns")
            if (declared if declared is not None else _inherited_ns(nc)) != name[0]:
                return False
        return not any(_in_class(c, name) for x in nc.iterchildren(_R + "except") for c in x
                       if isinstance(c.tag, str))
    return False


_ATTRIBUTES_OF = re.compile(r"Element (\S+) failed to validate attributes")
#: How many elements of the name ``_attributes_placed`` checks.
_PLACES_TRIED = 64


def _attributes_placed(doc: etree._ElementTree, entries: list[Any], g: Grammar, schema: etree.RelaxNG
                       ) -> list[Any]:
    """Return libxml2's errors with "Element x failed to validate attributes" said of no
    node (a ``witDetail`` without its required ``wit``, among text) said of the first
    element of that name whose attributes fail on their own: a copy of it without its
    content, against the grammar started at its name."""
    out = list(entries)
    for k, e in enumerate(entries):
        m = _ATTRIBUTES_OF.match(str(e.message))
        if e.path or e.type_name != _ATTRIBUTES_FAILED or not m:
            continue
        tried = 0
        for el in doc.getroot().iter(etree.Element):
            if etree.QName(el).localname != m.group(1) or _split(el.tag) not in g._elements:
                continue
            tried += 1
            if tried > _PLACES_TRIED:
                break
            rerooted = _rerooted(g, schema, _split(el.tag))
            if rerooted is None:
                break
            bare = etree.Element(el.tag)
            for key, value in el.attrib.items():
                bare.set(key, value)
            if rerooted.validate(etree.ElementTree(bare)):
                continue
            if any(x.type_name in (_ATTRIBUTES_FAILED, "RELAXNG_ERR_INVALIDATTR") for x in rerooted.error_log):
                line = el.sourceline
                out[k] = _Entry(line if isinstance(line, int) else 0, 0, e.type_name, str(e.message), doc.getpath(el))
                break
    return out


def _alone(doc: etree._ElementTree, el: etree._Element, g: Grammar, schema: etree.RelaxNG
           ) -> tuple[str, list[_Entry]]:
    """Check an element on its own, against the grammar started at its name: ("good", []),
    ("unchecked", []) where that grammar cannot be made, ("content", []) where libxml2
    says only that its content failed, or ("failed", its errors, the paths made the
    document's)."""
    rerooted = _rerooted(g, schema, _split(el.tag))
    if rerooted is None:
        return "unchecked", []
    alone = etree.ElementTree(copy.deepcopy(el))
    alone.getroot().tail = None  # (text after it is its parent's)
    if rerooted.validate(alone):
        return "good", []
    log = list(rerooted.error_log)
    top = alone.getpath(alone.getroot())
    if all(e.type_name == _CONTENT_FAILED and e.path == top for e in log):
        return "content", []
    at = doc.getpath(el)
    return "failed", [_Entry(e.line, e.column, e.type_name, str(e.message),
                             at + e.path[len(top):] if e.path and e.path.startswith(top) else at) for e in log]


@cache
def grammar(path: str) -> Grammar:
    """Return the prepared grammar of a schema file (once per process)."""
    return Grammar(Path(path))


#: The whole schemas compiled from a prepared grammar (see _rerooted).
_FULL: dict[str, etree.RelaxNG] = {}


@cache
def compile_full(path: str) -> etree.RelaxNG:
    """Compile a whole RELAX NG schema (once per process): the grammar prepared as the
    reductions are (``Grammar.template``), when it is one the reductions are made from."""
    try:
        g = grammar(path)
        if g.reducible:
            _FULL[path] = etree.RelaxNG(g.template)
            return _FULL[path]
        return etree.RelaxNG(etree.parse(path, _parser()))
    except OSError as exc:
        raise SchemaError(Issue("schema.missing", path, f"cannot be read: {exc}")) from None
    except (etree.XMLSyntaxError, etree.RelaxNGParseError) as exc:
        raise SchemaError(Issue("schema.invalid", path, f"cannot be compiled: {exc}")) from None


def _known_pairs(pairs: frozenset[Pair] | None, elements: frozenset[Name]) -> frozenset[Pair] | None:
    """Return the pairs of the elements the schema names plainly (the others change nothing).

    Every attribute of such an element is kept, also one whose pattern has a prefixed name
    (``xml:id``), which the index of plain names does not list.
    """
    if pairs is None:
        return None
    return frozenset(p for p in pairs if p[0] in elements)


_REDUCED: dict[tuple[str, frozenset[Name], frozenset[Name], bool, frozenset[Pair] | None, frozenset[Name]],
               etree.RelaxNG] = {}


def _compile_reduced(g: Grammar, elements: frozenset[Name], attributes: frozenset[Name], flat: bool,
                     pairs: frozenset[Pair] | None = None, stubs: frozenset[Name] = frozenset()) -> etree.RelaxNG:
    key = (g.sha256, elements, attributes, flat, pairs, stubs)
    found = _REDUCED.get(key)
    if found is None:
        try:
            data = g.reduced_bytes(elements, attributes, flat, pairs, stubs)
            root = etree.fromstring(data, _parser())
            found = etree.RelaxNG(etree.ElementTree(root))
        except etree.RelaxNGParseError as exc:
            raise SchemaError(Issue("schema.invalid", str(g.path), f"cannot be compiled: {exc}")) from None
        if len(_REDUCED) >= 64:
            gone = id(_REDUCED.pop(next(iter(_REDUCED))))
            _DEAD_NAMES.pop(gone, None)
            _IMPAIRED_NAMES.pop(gone, None)
            _TREES.pop(gone, None)
        _REDUCED[key] = found
        _DEAD_NAMES[id(found)] = frozenset(_split(n) for n in root.get(_DEAD, "").split())
        _IMPAIRED_NAMES[id(found)] = frozenset(_split(n) for n in root.get(_IMPAIRED, "").split())
        _TREES[id(found)] = root
    return found


#: The attribute of a reduction's root that lists the documents' elements it can match
#: nowhere (see Grammar.wording), and those lists by reduction.
_DEAD = "{urn:x-tei-ingest}dead"
_DEAD_NAMES: dict[int, frozenset[Name]] = {}
#: Likewise the documents' elements whose content lost a part that could still match
#: (see _simplify), in a plain reduction.
_IMPAIRED = "{urn:x-tei-ingest}impaired"
_IMPAIRED_NAMES: dict[int, frozenset[Name]] = {}
#: The grammar each reduction was compiled from (see _rerooted).
_TREES: dict[int, etree._Element] = {}


def _strip_annotations(root: etree._Element) -> None:
    """Drop foreign elements and attributes (documentation, Schematron): they do not validate."""
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or not el.tag.startswith(_R):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
            continue
        for a in [a for a in el.attrib if str(a).startswith("{")]:
            del el.attrib[a]


XSD = "http://www.w3.org/2001/XMLSchema-datatypes"
#: The XML Schema types whose values are not whitespace-collapsed before their facets.
_NOT_COLLAPSED = frozenset({"string", "normalizedString"})


def _patterns_as_jing(root: etree._Element) -> None:
    """Write the value patterns so that libxml2 matches values as jing does.

    The Unicode categories jing's patterns use differ from libxml2's (``_JING_CATEGORIES``:
    tei_all's ``[^\\p{C}\\p{Z}]+``, the pattern of an enumerated or word value such as
    ``@type``, refuses a soft hyphen or a private-use character in libxml2, not in jing).

    And a pattern applies to a value once its whitespace is collapsed (XML Schema Part 2,
    4.3.4 and 4.3.6), so ``<graphic url=" a.jpg "/>`` matches tei_all's ``\\S+``. libxml2
    collapses only the values of the token types before it: for anyURI, date, decimal
    and the others it matches the value as written. Wrapped in ``\\s*(...)\\s*``, a pattern
    (which cannot hold whitespace inside such a value) accepts a value as written exactly
    when it accepts it collapsed.
    """
    for param in root.iter(_R + "param"):
        data = param.getparent()
        if param.get("name") != "pattern" or data is None or _inherited(data, "datatypeLibrary") != XSD \
                or param.text is None:
            continue
        param.text = _CLASS.sub(_as_jing_class, param.text)
        if data.get("type") not in _NOT_COLLAPSED:
            param.text = rf"\s*({param.text})\s*"
    # libxml2 takes any value for an attribute whose value is optional(p) (tei_all's
    # schemaSpec/@prefix: <optional><data type="NCName"/></optional> took "a b"), and
    # checks the same pattern written choice(empty, p), as RELAX NG's simplification
    # (section 4.12) writes it
    for optional in list(root.iter(_R + "optional")):
        owner = next((a for a in optional.iterancestors(_R + "attribute", _R + "list", _R + "element")), None)
        if owner is None or owner.tag != _R + "attribute":
            continue
        choice = etree.Element(_R + "choice")
        etree.SubElement(choice, _R + "empty")
        parts = [k for k in optional if isinstance(k.tag, str)]
        target = choice if len(parts) == 1 else etree.SubElement(choice, _R + "group")
        for k in parts:
            target.append(k)
        choice.tail = optional.tail
        parent = optional.getparent()
        assert parent is not None
        parent.replace(optional, choice)


#: A character class of an XML Schema pattern (``[^\p{C}\p{Z}]``).
_CLASS = re.compile(r"\[\^?(?:[^\[\]\\]|\\.)+\]")
#: What jing's patterns match for these categories: ``\p{C}`` (other: controls, format,
#: private use) nothing at all, ``\p{Z}`` (separators) these 18 characters, as in Unicode
#: 13, where libxml2's tables, from an older Unicode, put U+180E among the separators.
_JING_CATEGORIES = {
    r"\p{C}": "",
    r"\p{Z}": "\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
}


def _as_jing_class(m: re.Match[str]) -> str:
    """Return a character class of a pattern written to match what it matches in jing."""
    text = m.group(0)
    for category, chars in _JING_CATEGORIES.items():
        text = text.replace(category, chars)
    return text if text not in ("[]", "[^]") else m.group(0)


def _inherited_ns(el: etree._Element) -> str:
    node: etree._Element | None = el
    while node is not None:
        ns = node.get("ns")
        if ns is not None:
            return ns
        node = node.getparent()
    return ""


def _plain_name(el: etree._Element, attribute: bool) -> Name | None:
    """Return the single name a pattern matches, or None for a name class or a prefixed name."""
    name = el.get("name")
    if name is not None:
        if ":" in name:
            return None
        ns = el.get("ns", "") if attribute else _inherited_ns(el)
        return ns, name.strip()
    first = next((c for c in el if isinstance(c.tag, str)), None)
    if first is None or first.tag != _R + "name" or ":" in (first.text or ""):
        return None
    declared = first.get("ns")
    ns = declared if declared is not None else (el.get("ns", "") if attribute else _inherited_ns(first))
    return ns, (first.text or "").strip()




def _prefixed_name(el: etree._Element) -> Name | None:
    """Return the name of an attribute pattern named with a prefix (``xml:id``), or None."""
    prefix, _, local = (el.get("name") or "").strip().partition(":")
    if not local:
        return None
    ns = XML_NS if prefix == "xml" else el.nsmap.get(prefix)
    return (ns, local) if ns else None


def _is(el: etree._Element, tag: str) -> bool:
    return el.tag == _R + tag


def _patterns(el: etree._Element) -> list[etree._Element]:
    """Return the pattern children of an element (its name class left out)."""
    kids = [c for c in el if isinstance(c.tag, str)]
    if el.tag in (_R + "element", _R + "attribute") and el.get("name") is None and kids:
        kids = kids[1:]  # the first child is the name class
    return kids


def _simplify(root: etree._Element, impaired: set[Name] | None = None) -> None:
    """Propagate notAllowed as RELAX NG simplification does (section 4.20), to a fixed point.

    A group, interleave, oneOrMore, list, attribute or element with a notAllowed part is
    notAllowed; a choice drops its notAllowed branches; zeroOrMore and optional of
    notAllowed are empty; a reference to a definition that became notAllowed is
    notAllowed. The grammar accepts the same documents, and libxml2 can compile the
    content models that remain into automata, as it does for the full schema.

    One pass rewrites every pattern, its parts before it; after it only the references to
    a definition that became notAllowed (or empty) change anything, so each later round
    rewrites only what holds such a reference, and looks again only at the definitions
    it changed. (The same fixed point as passes over the whole grammar until one changes
    nothing, in a fraction of the time: tests/test_validate_parity.py compares the two.)

    ``impaired`` collects the names of the elements in whose content a group, interleave
    or oneOrMore became notAllowed while another of its parts could still match: the
    reduction then refuses there what the full schema would take further (see
    ``Grammar.wording``).
    """
    for el in reversed(list(root.iter(_R + "*"))):
        _rewrite(el, impaired)
    defines: dict[str, list[etree._Element]] = {}
    for d in root.iter(_R + "define"):
        defines.setdefault(d.get("name", ""), []).append(d)
    refs: dict[str, list[etree._Element]] = {}
    for ref in root.iter(_R + "ref"):
        refs.setdefault(ref.get("name", ""), []).append(ref)
    looked: Iterable[str] = defines
    while True:
        dead, empty = _dead_defines(defines, looked), _empty_defines(defines, looked)
        # the patterns that hold a replaced reference, each after those inside it
        held: dict[etree._Element, int] = {}
        for name in sorted(dead | empty):
            for ref in refs.pop(name, ()):
                chain = list(ref.iterancestors())
                if not chain or chain[-1] is not root:
                    continue  # gone with a pattern that held it
                _replace(ref, "notAllowed" if name in dead else "empty")
                for depth, el in enumerate(reversed(chain)):
                    held[el] = depth
        if not held:
            return
        changed: set[str] = set()
        for el in sorted(held, key=held.__getitem__, reverse=True):
            _rewrite(el, impaired)
            if el.tag == _R + "define":
                changed.add(el.get("name", ""))
        looked = changed


def _rewrite(el: etree._Element, impaired: set[Name] | None = None) -> bool:
    """Apply to one pattern the rules of ``_simplify``; return whether it changed."""
    changed = False
    tag = el.tag
    if tag == _R + "define":  # its patterns are a group: group(empty, p) is p
        kids = _patterns(el)
        empties = [k for k in kids if _is(k, "empty")]
        for k in empties[: len(empties) if len(empties) < len(kids) else len(empties) - 1]:
            _drop(k)
            changed = True
        return changed
    if tag in _LEAVES or el.getparent() is None:
        return False
    if tag == _R + "choice" and _in_name_class(el):
        return False
    kids = _patterns(el)
    if tag in _SEQUENCES:  # group(empty, p) is p; group(empty, empty), oneOrMore(empty)... are empty
        empties = [k for k in kids if _is(k, "empty")]
        if empties and len(empties) < len(kids):
            for k in empties:
                _drop(k)
            kids = [k for k in kids if not _is(k, "empty")]
            changed = True
        elif empties and tag != _R + "element":
            _replace(el, "text" if tag == _R + "mixed" else "empty")  # mixed(empty) is text
            return True
        elif len(empties) > 1:
            for k in empties[1:]:
                _drop(k)
            changed = True
    if tag in _SINGLE and len(kids) == 1 and len(el) == 1:  # group(p) is p
        only = kids[0]
        only.tail = el.tail
        parent = el.getparent()
        assert parent is not None
        parent.replace(el, only)
        return True
    dead = [k for k in kids if _is(k, "notAllowed")]
    if not dead:
        return changed
    if tag == _R + "choice":
        if len(dead) == len(kids):
            _replace(el, "notAllowed")
        else:
            for k in dead:
                _drop(k)
    elif tag in _ALL_OR_NOTHING:
        if impaired is not None and tag != _R + "element" and any(
                not _is(k, "notAllowed") and not _is(k, "empty") for k in kids):
            owner = next((a for a in el.iterancestors(_R + "element")), None)
            name = _plain_name(owner, False) if owner is not None else None
            if name is not None:
                impaired.add(name)
        _replace(el, "notAllowed")
    elif tag in (_R + "zeroOrMore", _R + "optional"):
        _replace(el, "empty")
    else:
        return changed
    return True


_LEAVES = frozenset(_R + t for t in ("name", "value", "param", "anyName", "nsName", "except", "notAllowed", "ref",
                                       "empty", "text", "data", "start", "grammar", "div", "define"))
_SEQUENCES = frozenset(_R + t for t in ("group", "interleave", "element", "oneOrMore", "zeroOrMore", "optional",
                                          "mixed"))
#: group(p) and interleave(p) are p (libxml2 rewrites them so, but in an element that
#: refers to itself it can then link the element's parts in a cycle and never stop compiling)
_SINGLE = frozenset(_R + t for t in ("group", "interleave"))
_ALL_OR_NOTHING = frozenset(_R + t for t in ("group", "interleave", "oneOrMore", "list", "attribute", "mixed",
                                               "element"))


def _dead_defines(defines: dict[str, list[etree._Element]], names: Iterable[str]) -> set[str]:
    """Return those of the names whose combined definition is notAllowed."""
    def is_dead(d: etree._Element) -> bool:
        return any(_is(k, "notAllowed") for k in _patterns(d))

    dead = set()
    for name in names:
        defs = defines[name]
        combine = next((d.get("combine") for d in defs if d.get("combine")), None)
        if (combine == "choice" and all(is_dead(d) for d in defs)) or (combine != "choice" and any(map(is_dead, defs))):
            dead.add(name)
    return dead


def _empty_defines(defines: dict[str, list[etree._Element]], names: Iterable[str]) -> set[str]:
    """Return those of the names defined once, not combined, as empty.

    A reference to one is empty: replaced so, an element's references to attribute groups
    whose attributes the documents never carry are dropped from it. libxml2 moves an
    element's parts that make only attributes out of its content, and compiles the content
    into an automaton, as it does for the full schema; a reference to ``empty`` among
    them would keep them in the content and the element's content uncompiled.
    """
    found: set[str] = set()
    for name in names:
        defs = defines[name]
        if len(defs) == 1 and not defs[0].get("combine"):
            kids = _patterns(defs[0])
            if kids and all(_is(k, "empty") for k in kids):
                found.add(name)
    return found


def _in_name_class(el: etree._Element) -> bool:
    """Return True for a choice that is (part of) a name class, not a pattern."""
    node: etree._Element | None = el
    while node is not None and _is(node, "choice"):
        parent = node.getparent()
        if parent is None:
            return False
        if parent.tag in (_R + "element", _R + "attribute") and parent.get("name") is None \
                and next(c for c in parent if isinstance(c.tag, str)) is node:
            return True
        owner = parent.getparent() if _is(parent, "except") else None
        if owner is not None and owner.tag in (_R + "anyName", _R + "nsName"):
            return True
        node = parent
    return False


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def _replace(el: etree._Element, tag: str) -> None:
    parent = el.getparent()
    if parent is None:
        return
    stub = etree.Element(_R + tag)
    stub.tail = el.tail
    parent.replace(el, stub)


def _drop_unreachable(root: etree._Element) -> None:
    """Remove the definitions that no reference reachable from start names any more."""
    defines: dict[str, list[etree._Element]] = {}
    for d in root.iter(_R + "define"):
        defines.setdefault(d.get("name", ""), []).append(d)
    seen: set[str] = set()
    stack = list(root.iter(_R + "start"))
    while stack:
        node = stack.pop()
        for ref in node.iter(_R + "ref"):
            name = ref.get("name", "")
            if name not in seen:
                seen.add(name)
                stack.extend(defines.get(name, ()))
    for name, nodes in defines.items():
        if name not in seen:
            for d in nodes:
                parent = d.getparent()
                if parent is not None:
                    parent.remove(d)


def _flatten_attributes(root: etree._Element, pairs: frozenset[tuple[Name, Name]] | None = None) -> None:
    """Write each element's attributes as libxml2 checks them fastest; the grammar means the same.

    TEI gives an element its attributes through classes: references to definitions that
    are groups of ``optional`` attributes. libxml2 keeps, for each optional attribute a
    document has, both the state where the pattern took it and the one where it did not,
    so states multiply with the attributes an element carries, and checking attributes is
    nearly all of the time a document takes. Attributes have no order, so a group of
    attribute patterns means the same as an ``interleave`` of them, and libxml2 settles an
    interleave one part at a time. So where an element's attribute patterns are plain
    (``attribute`` with a ``name``, each at most inside ``optional``, through ``ref``,
    ``group`` and ``empty``, no name twice), the required ones are copied into the element
    as its own children, and the optional ones each make a part of one ``interleave``
    after the content, by reference to a definition made for each attribute pattern. An
    element whose attributes take any other form (``choice``, repetition, name classes, a
    part that mixes attributes and content) is left as it is.

    ``pairs``: the (element name, attribute name) pairs of the documents to be checked. An
    optional attribute is then left out of an element with a plain name that never carries
    it in those documents: there ``optional`` of it can only match nothing, which is what
    the element then has without it. Fewer optional attributes check faster.
    """
    defines: dict[str, etree._Element] = {}
    for d in root.iter(_R + "define"):
        name = d.get("name", "")
        if d.get("combine") or name in defines:
            return  # definitions combined from several parts: left as they are
        defines[name] = d
    memo: dict[str, frozenset[str]] = {}

    def kinds(node: etree._Element) -> frozenset[str]:
        """What a pattern holds outside the elements it contains: "A" attributes, "C" content."""
        tag = node.tag
        if tag == _R + "attribute":
            return _ATTRIBUTES
        if tag in _CONTENT:
            return _CONTENT_ONLY
        if tag in (_R + "empty", _R + "notAllowed"):
            return frozenset()
        if tag == _R + "ref":
            name = node.get("name", "")
            if name not in memo:
                if name not in defines:
                    return _BOTH
                memo[name] = frozenset()  # a recursion without an element between: what the rest holds
                memo[name] = frozenset().union(*(kinds(k) for k in _patterns(defines[name])))
            return memo[name]
        if tag in _COMBINATORS:
            return frozenset().union(_CONTENT_ONLY if tag == _R + "mixed" else frozenset(),
                                     *(kinds(k) for k in _patterns(node)))
        return _BOTH  # anything else (parentRef, externalRef, grammar): not reasoned about

    class Irregular(Exception):
        pass

    def items(node: etree._Element, optional: bool = False, path: frozenset[str] = frozenset()
              ) -> Iterable[tuple[bool, etree._Element]]:
        tag = node.tag
        if tag == _R + "attribute":
            if node.get("name") is None:
                raise Irregular  # a name class
            yield optional, node
        elif tag == _R + "ref":
            name = node.get("name", "")
            if name in path:
                raise Irregular  # a reference cycle with no element in it: the schema is wrong, libxml2 says so
            for k in _patterns(defines[name]):
                yield from items(k, optional, path | {name})
        elif tag == _R + "group":
            for k in _patterns(node):
                yield from items(k, optional, path)
        elif tag == _R + "optional":
            inner = [i for k in _patterns(node) for i in items(k, True, path)]
            if len(inner) > 1:
                raise Irregular  # several attributes that go together or not at all
            yield from inner
        elif tag != _R + "empty":
            raise Irregular

    made: dict[etree._Element, str] = {}
    carried: dict[Name, set[Name]] | None = None
    if pairs is not None:
        carried = {}
        for element, attribute in pairs:
            carried.setdefault(element, set()).add(attribute)

    def shared(a: etree._Element) -> str:
        """Return the name of a definition of its own holding a copy of an attribute pattern
        (one for each pattern, however many elements take it: the grammar stays small)."""
        if a not in made:
            name = f"tei-ingest.attribute.{len(made)}"
            while name in defines:
                name += "_"
            etree.SubElement(root, _R + "define", name=name).append(_copy_in_place(a))
            made[a] = name
        return made[a]

    for el in list(root.iter(_R + "element")):
        kids = _patterns(el)
        found = [kinds(k) for k in kids]
        if _ATTRIBUTES not in found or _BOTH in found:
            continue
        parts = [k for k, f in zip(kids, found, strict=True) if f == _ATTRIBUTES]
        try:
            flat = [i for k in parts for i in items(k)]
        except Irregular:
            continue
        names = [_attribute_name(a) for _, a in flat]
        if len(set(names)) != len(names) or any(not _same_context(a, el) or not _same_context(a, root)
                                                for _, a in flat):
            continue
        required = [_copy_in_place(a) for optional, a in flat if not optional]
        kept = [a for optional, a in flat if optional]
        own = _plain_name(el, False) if carried is not None else None
        if own is not None:
            assert carried is not None
            kept = [a for a in kept if _attribute_name(a) in carried.get(own, ())]
        optionals = [shared(a) for a in kept]
        for k in parts:
            el.remove(k)
        rest = _patterns(el)
        for a in required:
            if rest:
                rest[0].addprevious(a)
            else:
                el.append(a)
        if optionals:
            holder = etree.SubElement(el, _R + "interleave") if len(optionals) > 1 else el
            for name in optionals:
                etree.SubElement(etree.SubElement(holder, _R + "optional"), _R + "ref", name=name)
        if not _patterns(el):
            etree.SubElement(el, _R + "empty")


_ATTRIBUTES = frozenset("A")
_CONTENT_ONLY = frozenset("C")
_BOTH = frozenset("AC")
_CONTENT = frozenset(_R + t for t in ("element", "text", "data", "value", "list"))
_COMBINATORS = frozenset(_R + t for t in ("group", "interleave", "choice", "optional", "zeroOrMore", "oneOrMore",
                                            "mixed"))
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _attribute_name(a: etree._Element) -> Name:
    """Return the (namespace, local name) an attribute pattern with a name attribute matches."""
    name = a.get("name", "").strip()
    prefix, _, local = name.rpartition(":")
    if prefix:
        return (_XML_NS if prefix == "xml" else a.nsmap.get(prefix, prefix)), local
    return a.get("ns", ""), local


def _inherited(el: etree._Element, attr: str) -> str | None:
    node: etree._Element | None = el
    while node is not None:
        value = node.get(attr)
        if value is not None:
            return value
        node = node.getparent()
    return None


def _same_context(a: etree._Element, el: etree._Element) -> bool:
    """Return True when an attribute pattern means the same inside ``el`` as where it is.

    Its ``value``, ``name`` and ``nsName`` descendants take the nearest ``ns`` above them,
    which must then be the same at both places (``datatypeLibrary`` is made explicit by
    ``_copy_in_place``).
    """
    if _inherited(a, "ns") == _inherited(el, "ns"):
        return True
    return not any(d.get("ns") is None for d in a.iter(_R + "value", _R + "name", _R + "nsName"))


def _copy_in_place(a: etree._Element) -> etree._Element:
    """Return a copy of an attribute pattern carrying the datatype library it has where it is."""
    c = copy.deepcopy(a)
    c.tail = None
    c.set("datatypeLibrary", _inherited(a, "datatypeLibrary") or "")
    return c


class Error(NamedTuple):
    """Where and why a document fails a schema."""

    line: int
    column: int
    message: str


#: From how many documents a batch is checked against the reduction with flattened
#: attributes. The plain reduction's content models are compiled into automata too, so
#: the two compile in about the same time (3 to 6 ms for a corpus document) and the
#: flattened one checks a document 0.1 to 0.3 ms faster; an invalid document is worded by
#: the plain one, which one or two documents then compile only once.
FLAT_FROM = 3
#: From how many elements, in fewer documents: libxml2 checks the siblings of a long
#: run against the unflattened grammar in a time that grows with their square (20,000
#: paragraphs in a div: 1 s, against 0.04 s flattened), and from about 2,000 elements
#: flattening pays for its compile time even on one document.
FLAT_ELEMENTS = 2000


def _element_count(doc: etree._ElementTree) -> int:
    count = doc.xpath("count(//*)")
    return int(count) if isinstance(count, float) else 0


def validate(path: str, docs: Sequence[etree._ElementTree], sources: Sequence[bytes | None] | None = None,
             names: Sequence[tuple[frozenset[Name], frozenset[Name]] | Usage] | None = None,
             flat: bool | None = None) -> list[tuple[Error, ...]]:
    """Validate documents against a schema file; return the errors of each (none: valid).

    The verdict comes from the grammar reduced to the names of all the documents (with
    flattened attributes when ``flat``, by default for ``FLAT_FROM`` documents or more or
    ``FLAT_ELEMENTS`` elements, each element given only the attributes it carries in them
    when every document's ``Usage`` is known). An invalid document is checked again
    against the schema that words its errors as the full schema does (``Grammar.wording``:
    its own plain reduction, or the full schema), which has the last word; with the document's bytes
    (``sources``), the first error is placed where a streaming validator such as jing
    meets it (see :func:`first_errors`).
    """
    g = grammar(path)
    if names is None:
        names = [document_usage(doc) for doc in docs]
    pairs: frozenset[Pair] | None
    if len(names) == 1:  # one document: its names as they are
        all_elements, all_attributes = names[0][0], names[0][1]
        pairs = names[0].pairs if isinstance(names[0], Usage) else None
    else:
        elements: set[Name] = set()
        attributes: set[Name] = set()
        union: set[Pair] | None = set()
        for used in names:
            elements |= used[0]
            attributes |= used[1]
            if union is not None and isinstance(used, Usage):
                union |= used.pairs
            else:
                union = None  # a document whose pairs are not known: every element keeps its attributes
        all_elements, all_attributes = frozenset(elements), frozenset(attributes)
        pairs = frozenset(union) if union is not None else None
    if flat is None:
        flat = len(docs) >= FLAT_FROM or sum(map(_element_count, docs)) >= FLAT_ELEMENTS
    rng = g.validator(all_elements, all_attributes, flat, pairs)
    out: list[tuple[Error, ...]] = []
    for k, doc in enumerate(docs):
        data = sources[k] if sources is not None else None
        spaced = _spaced_ids(doc, g) if _XML_ID in names[k][1] and (
            not data or not ascii_compatible(data) or _SPACED_ID_WRITTEN.search(data)) else []  # (UTF-16: the tree)
        if rng.validate(doc):
            out.append(first_errors(doc, spaced, data) if spaced else ())
            continue
        worded = g.wording(names[k][0], names[k][1], _split(doc.getroot().tag), doc)
        entries: list[Any]
        if worded is not None and not worded.validate(doc) and len(worded.error_log):
            schema = worded
        else:  # the full schema has the last word (and words what its reduction cannot: a root it does not match)
            schema = compile_full(path)
            if schema.validate(doc):
                out.append(first_errors(doc, spaced, data) if spaced else ())
                continue
        entries = _looked_inside(doc, _without_echoes(doc, _attributes_placed(doc, list(schema.error_log), g, schema),
                                                      schema), g, schema)
        entries = _only_incomplete(doc, entries, schema, g)
        out.append(first_errors(doc, entries, data, [*g.unchecked_attributes(doc, entries), *spaced],
                                partial(g.first_wrong_child, doc, schema))
                   or (Error(0, 0, "invalid against the schema"),))
    return out


#: The xml:id values with white space before or after the name.
_SPACED_ID = etree.XPath("//@xml:id[normalize-space(.) != .]")
#: An xml:id written with white space (or a character reference) at either end: where none
#: is, a document's bytes say so faster (4.6 ms for 1,000 documents) than its tree (16 ms).
_SPACED_ID_WRITTEN = re.compile(
    rb"""xml:id\s*=\s*(?:"(?:[ \t\r\n&]|[^"]*[ \t\r\n;]")|'(?:[ \t\r\n&]|[^']*[ \t\r\n;]'))""")


def ascii_compatible(data: bytes) -> bool:
    """Whether a document's bytes write ASCII as ASCII (not UTF-16 or UTF-32, by their byte
    order mark or the NUL bytes of their first characters), so that its markup can be
    searched in the bytes."""
    return data[:2] not in (b"\xff\xfe", b"\xfe\xff") and b"\x00" not in data[:4]


def _spaced_ids(doc: etree._ElementTree, g: Grammar) -> list[_Entry]:
    """Return an error for each ``xml:id`` that repeats an earlier one once their white space
    is collapsed, as an ID's is (``xml:id=" a"`` after ``xml:id="a"``), where they are
    written otherwise: libxml2 compares IDs as written and misses those, jing does not."""
    spaced = _SPACED_ID(doc)
    if not isinstance(spaced, list) or not spaced:
        return []
    wanted = {_collapsed(str(v)) for v in spaced}
    first: dict[str, str] = {}
    out: list[_Entry] = []
    for el in doc.getroot().iter(etree.Element):
        value = el.get(_XML_ID_KEY)
        key = _collapsed(value) if value is not None else None
        if value is None or key not in wanted:
            continue
        name = _split(el.tag)
        if name in g._elements:
            g._attributes_of(name)
            if not g._is_id(name):
                continue
        if key in first and first[key] != value:  # (the same as written: libxml2 reports it)
            line = el.sourceline
            out.append(_Entry(line if isinstance(line, int) else 0, 0, "RELAXNG_ERR_INVALIDATTR",
                              f"Invalid attribute id for element {name[1]}", doc.getpath(el)))
        first.setdefault(key, value)
    return out


_XML_ID_KEY = "{http://www.w3.org/XML/1998/namespace}id"
_XML_ID: Name = ("http://www.w3.org/XML/1998/namespace", "id")
#: libxml2's two errors for one child its parent did not expect.
_WRONG_CHILD = frozenset({"RELAXNG_ERR_ELEMWRONG", "RELAXNG_ERR_ELEMNAME"})
#: libxml2 errors that name the node at fault (the others restate a failure of a parent).
_SPECIFIC = frozenset({
    "RELAXNG_ERR_INVALIDATTR", "RELAXNG_ERR_ELEMWRONG", "RELAXNG_ERR_TEXTWRONG", "RELAXNG_ERR_NOELEM",
    "RELAXNG_ERR_DATATYPE", "RELAXNG_ERR_VALUE", "RELAXNG_ERR_LIST", "RELAXNG_ERR_ELEMNAME",
    "RELAXNG_ERR_ELEMEXTRANS", "RELAXNG_ERR_ELEMNOTEMPTY", "RELAXNG_ERR_NOTELEM", "RELAXNG_ERR_DATAELEM",
})


class _Entry(NamedTuple):
    """An error found here rather than by libxml2, with the fields of libxml2's log entries."""

    line: int
    column: int
    type_name: str
    message: str
    path: str


def first_errors(doc: etree._ElementTree, entries: list[Any], data: bytes | None,
                 attributes: Sequence[Any] = (), culprit: Any = None) -> tuple[Error, ...]:
    """Return libxml2's errors, the first one where jing reports it and the rest in line order.

    libxml2 reports a failure at the parent that could not match before the node at
    fault, and at an element's start where jing, reading the document as a stream,
    stops later: at the end of the start tag (a wrong element or attribute), at the
    element's end tag (missing content) or at the text that is not allowed. So each run of
    errors (one reported, then those inside it) stands for its deepest specific error,
    whose line is recomputed from the bytes of the document; and as libxml2 checks an
    element's attributes after its content, jing's first error is the run whose line comes
    first, not the run reported first.
    """
    if not entries:
        return ()
    runs: list[Any] = []
    # (text an element does not allow is said at the element: an error inside it)
    paths = [e.path + "/text()" if e.type_name == "RELAXNG_ERR_TEXTWRONG" else e.path for e in entries if e.path]
    dropped: list[Any] = []  # said again of an element already found at fault inside
    deeper: set[int] = set()
    for e in entries:
        best = runs[-1] if runs else None
        restated = bool(e.path) and e.type_name in _WRONG_CHILD and _restated(doc, e, paths, culprit)
        if best is not None and e.path and best.path and best.type_name != _ATTRIBUTES_FAILED and (
                e.path.startswith(best.path + "/") or (
                e.path == best.path and e.type_name == "RELAXNG_ERR_TEXTWRONG"
                and best.type_name in _WRONG_CHILD | {_EXTRA})):
            if e.type_name in _SPECIFIC or e.type_name == best.type_name == _EXTRA:
                if best.type_name in _WRONG_CHILD:  # a wrong child said at its parent: the error inside it stands
                    dropped.append(best)
                if e.type_name == _EXTRA:  # extra content inside extra content: nearer the fault, as specific
                    deeper.add(id(e))
                runs[-1] = e
            continue
        if best is not None and e.path and e.path == best.path and e.type_name in _WRONG_CHILD \
                and best.type_name in _WRONG_CHILD:
            dropped.append(e)  # "Did not expect element x there", then "Expecting element y, got x": one failure
            continue
        if restated:
            dropped.append(e)
            continue
        runs.append(e)
    # the first run stands in any case; another only for a specific error (the others restate a
    # parent's); and each attribute error libxml2 left out (``Grammar.unchecked_attributes``)
    candidates = [runs[0], *(r for r in runs[1:] if r.type_name in _SPECIFIC | {_ATTRIBUTES_FAILED}
                             or id(r) in deeper), *attributes]
    others = [e for e in entries if e.type_name in _SPECIFIC and all(e is not c for c in candidates)
              and all(e is not d for d in dropped)]
    jing: list[int | None] = [None] * (len(candidates) + len(others))
    renamed: dict[int, str] = {}
    if data:
        extra = [e.path for e in entries if e.type_name == _EXTRA and e.path]
        try:
            jing = _jing_lines(doc, data, candidates + others, extra, culprit, renamed)
        except Exception:  # noqa: BLE001  # the location is a refinement; libxml2's stands, and its words
            renamed.clear()
    placed = [(at, 0, e) if at else (e.line, e.column, e)
              for at, e in zip(jing, candidates + others, strict=True)]
    # (an error without a line, "Element x failed to validate attributes", comes last)
    line, column, first = min(placed[: len(candidates)], key=lambda t: (t[0] <= 0, t[0]))

    def worded(e: Any) -> str:  # naming the child at fault where libxml2 named another
        return f"Did not expect element {renamed[id(e)]} there" if id(e) in renamed else _worded(doc, e)

    # the others in line order, each where jing reports it too
    rest = sorted((Error(at, col, worded(e)) for at, col, e in placed
                   if e is not first and e.type_name in _SPECIFIC), key=lambda err: err.line)
    return (Error(line, column, worded(first)), *rest)


_INVALID_ATTRIBUTE = re.compile(r"Invalid attribute (\S+) for element ")


def _without_echoes(doc: etree._ElementTree, entries: list[Any], schema: etree.RelaxNG) -> list[Any]:
    """Return libxml2's errors without those a wrong attribute value only echoes.

    Where an element's attributes are matched with its content, a wrong value makes the
    content fail too: "Expecting an element place, got nothing" on a listPlace full of
    places, beside "Invalid attribute type for element listPlace". jing reports the
    value alone. So the document is checked again without the attributes at fault, and
    an error at or inside their element, or its parent (whose content the element failed:
    "listBibl has extra content: bibl" of a good bibl before the one with a wrong xml:id),
    that is then gone is left out.
    """
    wrong: dict[str, set[str]] = {}
    for e in entries:
        m = _INVALID_ATTRIBUTE.match(str(e.message))
        if m and e.path:
            wrong.setdefault(e.path, set()).add(m.group(1))
    scopes = {q for p in wrong for q in (p, p.rsplit("/", 1)[0]) if q.count("/") > 1}

    def echo(e: Any) -> bool:  # another error at or inside an element with a wrong attribute, or its parent
        return bool(e.path) and not _INVALID_ATTRIBUTE.match(str(e.message)) and any(
            e.path == p or e.path.startswith(p + "/") for p in scopes)

    if not wrong or not any(echo(e) for e in entries):
        return entries
    trial = copy.deepcopy(doc)
    for path, names in wrong.items():
        for node in _nodes(trial, path)[:1]:
            for key in list(node.attrib):
                if etree.QName(key).localname in names:
                    del node.attrib[key]
    schema.validate(trial)
    log = list(schema.error_log)
    still = {(e.path, str(e.message)) for e in log}
    kept = [e for e in entries if not echo(e) or (e.path, str(e.message)) in still]
    if len(kept) == len(entries):
        return entries
    # with the echoes gone libxml2 checks the attributes of the element whose content had
    # failed (a listOrg's, whose org had a wrong xml:id): those it then finds wrong
    said = {(e.path, str(e.message)) for e in entries}
    return kept + [_Entry(e.line, e.column, e.type_name, str(e.message), e.path) for e in log
                   if _INVALID_ATTRIBUTE.match(str(e.message)) and e.path in scopes
                   and (e.path, str(e.message)) not in said]


_GOT_NOTHING = re.compile(r"Expecting an element (\S+), got nothing")
#: How many elements ``_only_incomplete`` tries at the end of an element (each is a check
#: of the document).
_STUBS_TRIED = 64


def _only_incomplete(doc: etree._ElementTree, entries: list[Any], schema: etree.RelaxNG, g: Grammar
                     ) -> list[Any]:
    """Return libxml2's errors without the wrong children said of an element that is only
    incomplete.

    Where an element's children are good as far as they go but one it requires is missing
    at its end (a ``listBibl`` with a ``head`` and no ``bibl``), libxml2 may say both what
    it expected ("Expecting an element bibl, got nothing") and that a good child was not
    expected ("Did not expect element head there"); jing reports the element incomplete,
    at its end tag. So an element of which both are said gets each element it was expected
    to have, then each its content refers to (as libxml2 may expect others), empty, after
    its children: if one makes its content good, its children were a good beginning, and
    the wrong children said of it are left out (the document is put back as it was).
    """
    expected: dict[str, list[str]] = {}
    for e in entries:
        m = _GOT_NOTHING.match(str(e.message)) if e.type_name == "RELAXNG_ERR_NOELEM" and e.path else None
        if m:
            expected.setdefault(e.path, []).append(m.group(1))
    wrong = {e.path for e in entries if e.type_name in _WRONG_CHILD and e.path in expected}
    drop: set[str] = set()
    for path in sorted(wrong):
        nodes = _nodes(doc, path)
        if not nodes:
            continue
        node = nodes[0]
        ns = etree.QName(node).namespace
        names = [*expected[path]]
        if _split(node.tag) in g._elements:
            names += sorted(n for space, n in g._referred(frozenset({_split(node.tag)}))[0] if space == (ns or ""))
        for name in list(dict.fromkeys(names))[:_STUBS_TRIED]:
            stub = etree.SubElement(node, f"{{{ns}}}{name}" if ns else name)
            try:
                schema.validate(doc)
                good = not any(x.path == path and not _INVALID_ATTRIBUTE.match(str(x.message))
                               for x in schema.error_log)
            finally:
                node.remove(stub)
            if good:
                drop.add(path)
                break
    return [e for e in entries if not (e.type_name in _WRONG_CHILD and e.path in drop)]


def _failed_content(doc: etree._ElementTree, log: Iterable[Any]) -> frozenset[Name]:
    """Return the names of the elements whose content libxml2's errors say failed."""
    out: set[Name] = set()
    for e in log:
        if e.type_name not in _WRONG_CHILD and e.type_name != "RELAXNG_ERR_NOELEM":
            continue
        for node in _nodes(doc, e.path):
            if e.type_name in _WRONG_CHILD and etree.QName(node).localname == _named(e):
                parent = node.getparent()  # a child not expected: its parent's content failed
                if parent is None:
                    continue
                node = parent
            out.add(_split(node.tag))
    return frozenset(out)


def _restated(doc: etree._ElementTree, entry: Any, paths: Sequence[str], culprit: Any = None) -> bool:
    """Whether "Did not expect element x there" (or "Expecting element y, got x"), said at
    x itself, at the x before it or at its parent where libxml2 reports errors inside x
    too, only says that x failed (its parent could then not take it): jing reports the
    error inside, not x."""
    named = _named(entry)
    nodes = _nodes(doc, entry.path)
    if not named or not nodes:
        return False
    node = nodes[0]

    def failed_inside(el: etree._Element) -> bool:
        inside = doc.getpath(el) + "/"
        return any(p.startswith(inside) for p in paths)

    if etree.QName(node).localname == named:  # (libxml2 may say it of the sibling before the one that failed)
        return any(map(failed_inside, itertools.chain((node,), node.itersiblings(node.tag))))
    # said at the parent: of a child of that name that failed inside; or naming a good child
    # where another child failed inside, unless a child has a name the parent never takes
    children = list(node.iterchildren(etree.Element))
    if any(failed_inside(c) for c in children if etree.QName(c).localname == named):
        return True
    return any(map(failed_inside, children)) and (culprit is None or culprit(node) is None)


def _worded(doc: etree._ElementTree, entry: Any) -> str:
    """Return libxml2's message, naming the element where it names none (missing content);
    a child or text an element does not take in one wording (libxml2 has two, after the way
    the element's content model was compiled)."""
    message = str(entry.message)
    extra = _EXTRA_WORDS.match(message)
    if extra:
        return (f"Did not expect text in element {extra.group(1)} content" if extra.group(2) == "text"
                else f"Did not expect element {extra.group(2)} there")
    if entry.type_name == "RELAXNG_ERR_NOELEM" and "Expecting an element , got nothing" in message and entry.path:
        try:
            nodes = doc.xpath(entry.path)
        except etree.XPathError:
            return message
        if isinstance(nodes, list) and nodes and isinstance(nodes[0], etree._Element):
            return f'element "{etree.QName(nodes[0]).localname}" incomplete: a child element it requires is missing'
    return message


#: libxml2's other wording of a child or text an element does not take.
_EXTRA_WORDS = re.compile(r"Element (\S+) has extra content: (\S+)$")
#: The element a libxml2 message names as the one not expected.
_NAMED = re.compile(r"Did not expect element (\S+) there|Expecting element \S+, got (\S+)")


def _named(entry: Any) -> str | None:
    """Return the element a libxml2 error names as the one not expected, if it names one."""
    m = _NAMED.match(str(entry.message))
    return (m.group(1) or m.group(2)) if m else None


def _nodes(doc: etree._ElementTree, path: str | None) -> list[etree._Element]:
    """Return the element at a libxml2 error's path, if it is one (its steps may carry the
    document's prefixes, "x:foo", which are matched by local name)."""
    if not path:
        return []
    try:
        found = doc.xpath(path)
    except etree.XPathError:
        found = doc.xpath(re.sub(r"[A-Za-z_][\w.-]*:([A-Za-z_][\w.-]*)", r"*[local-name()='\1']", path))
    return [found[0]] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else []


#: The line given to an error jing never reaches: missing content of an element whose end
#: tag comes after the point where the document stops being well-formed.
UNREACHED = -1


_XI = "{http://www.w3.org/2001/XInclude}"
_XI_EXPAT = "http://www.w3.org/2001/XInclude "


class _Found(Exception):
    """Every line asked for is known: the rest of the document need not be read."""


def _jing_lines(doc: etree._ElementTree, data: bytes, entries: Sequence[Any],
                extra: Sequence[str] = (), culprit: Any = None, renamed: dict[int, str] | None = None
                ) -> list[int | None]:
    """Return, for each libxml2 error, the line where jing reports it (None: libxml2's stands).

    A wrong element or attribute is reported at the ">" that ends its start tag, missing
    content at the element's end tag, wrong text at its first non-blank character. The
    bytes are read with expat only as far as the elements at fault, so a huge document
    with an error near its start is not read to its end. libxml2 reports some wrong
    children at their parent ("Did not expect element bibl there" on a listBibl): the
    child is the one its "extra content" error points to (``extra``: their paths), else
    the first child of the name the message gives.
    """
    lines: list[int | None] = [None] * len(entries)
    extra_nodes = {n for path in extra for n in _nodes(doc, path)}
    at_fault: dict[etree._Element, list[tuple[int, str]]] = {}  # element: (entry, what is placed)
    for n, e in enumerate(entries):
        nodes = _nodes(doc, e.path)
        if not nodes:
            continue
        node = nodes[0]
        named = _named(e)
        if named and e.type_name in _WRONG_CHILD and etree.QName(node).localname == named and culprit is not None \
                and node.getparent() is not None:
            found = culprit(node.getparent())  # a good child blamed for a later one its parent never takes
            if found is not None and found in set(node.itersiblings()):
                if renamed is not None and etree.QName(found).localname != named:
                    renamed[id(e)] = etree.QName(found).localname
                node = found
        elif named and e.type_name in _WRONG_CHILD and etree.QName(node).localname != named:
            children = list(node.iterchildren(etree.Element))
            found = culprit(node) if culprit is not None else None
            if found is not None and renamed is not None and etree.QName(found).localname != named:
                renamed[id(e)] = etree.QName(found).localname
            if found is None:
                found = next((c for c in children if c in extra_nodes), None)
            if found is None:
                found = next((c for c in children if etree.QName(c).localname == named), None)
            node = node if found is None else found
        # libxml2 names a text node "text", like TEI's element: "element text" is the
        # element where the node at fault is one
        what = ("end" if e.type_name == "RELAXNG_ERR_NOELEM" else
                "text" if e.type_name == "RELAXNG_ERR_TEXTWRONG"
                or (_ELEMENT_TEXT.search(str(e.message)) is not None and etree.QName(node).localname != "text")
                or str(e.message).endswith(("extra content: text", "got text")) else "start")
        at_fault.setdefault(node, []).append((n, what))
    # their positions among the elements in document order, as expat meets them
    wanted: dict[int, list[tuple[int, str]]] = {}
    # (XInclude's own elements are not counted: a document whose inclusions took their
    # fallbacks has the fallbacks' content where its bytes have xi:include and xi:fallback)
    for k, el in enumerate(e for e in doc.getroot().iter(etree.Element) if not e.tag.startswith(_XI)):
        if el in at_fault:
            wanted[k] = at_fault.pop(el)
            if not at_fault:
                break
    if not wanted:
        return lines
    from xml.parsers import expat

    pending = [sum(len(v) for v in wanted.values())]
    stack: list[tuple[int, int]] = []  # (position, where its start tag begins)
    seen = [0]
    parser = expat_parser()
    parser.buffer_text = False

    def line(index: int) -> int:
        return data.count(b"\n", 0, index) + 1

    def settle(k: int, what: str, value: int | None) -> None:
        for n, w in wanted[k]:
            if w == what and lines[n] is None:
                lines[n] = value
                pending[0] -= 1
        if pending[0] <= 0:
            raise _Found

    def start(_name: str, _attrs: dict[str, str]) -> None:
        if _name.startswith(_XI_EXPAT):
            stack.append((-1, 0))
            return
        k = seen[0]
        seen[0] += 1
        stack.append((k, parser.CurrentByteIndex))
        if k in wanted:
            settle(k, "start", line(_tag_end(data, parser.CurrentByteIndex)))

    def end(_name: str) -> None:
        k, begun = stack.pop()
        if k in wanted:
            index = parser.CurrentByteIndex
            close = _tag_end(data, begun)
            # an empty-element tag (<a/>) ends where it starts: expat gives the index after it
            settle(k, "end", line(close if index == close + 1 else _tag_end(data, index)))
            if any(w == "text" and lines[n] is None for n, w in wanted[k]):
                settle(k, "text", None)  # no text after all: libxml2's line stands

    def chars(text: str) -> None:
        if stack and stack[-1][0] in wanted and text.strip(XML_SPACE):
            lead = text[: len(text) - len(text.lstrip(XML_SPACE))].encode("utf-8")
            k = stack[-1][0]
            if any(w == "text" and lines[n] is None for n, w in wanted[k]):
                settle(k, "text", line(parser.CurrentByteIndex + len(lead)))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except _Found:
        pass
    except expat.ExpatError:
        # not well-formed further on: jing stops there, never meeting the end tags of the
        # elements still open (content they miss is not reported), text in them after that
        # point, or elements after it (as libxml2 recovered them)
        still_open = {k for k, _ in stack}
        for k, placed in wanted.items():
            for n, w in placed:
                if lines[n] is None and (k >= seen[0] or (k in still_open and w in ("end", "text"))):
                    lines[n] = UNREACHED
    return lines


#: libxml2's name for a text node ("element text"), not the start of another ("element textLang").
_ELEMENT_TEXT = re.compile(r"\belement text\b(?![\w.-])")


def expat_parser() -> Any:
    """An expat parser (names as "namespace local") that reads the declarations of the
    DOCTYPE's internal subset after a parameter entity it refers to (``%e;``), as libxml2
    and jing do; by default expat stops reading declarations there, leaving later entities
    undeclared. It reads no file: expat is given no handler for external entities."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_UNLESS_STANDALONE)
    return parser


def _tag_end(data: bytes, index: int) -> int:
    """Return the index of the ">" that ends the tag starting at ``index``; for what an
    entity reference brings in (expat gives the reference's index), the reference's ";",
    where jing places it."""
    if data[index : index + 1] == b"&":
        end = data.find(b";", index)
        return end if end >= 0 else index
    quote = 0
    for j in range(index, len(data)):
        c = data[j]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return j
    return len(data) - 1

#!/usr/bin/env python3
"""Generates C++ message structs from samsa's protocol schema files (*.def).

Usage: generate.py OUT_DIR SCHEMA.def...

Writes, for each schema file NAME.def, OUT_DIR/NAME.h with one struct per message; plus
OUT_DIR/api_keys.h (the ApiKey enum and each API's described version range) and
OUT_DIR/all_messages.h (every message, for tests that enumerate the schema).

The schema language (see README.md in this folder) is samsa's own, written from the published
Kafka protocol guide and KIPs. The output is plain C++ meant to be read: each struct has a
`serde(io, version)` that both decodes (Reader) and encodes (Writer) through one interface.
"""
import os
import re
import sys

PRIMITIVES = {
    'bool': ('bool', 'boolean', 'false'),
    'int8': ('int8_t', 'i8', '0'),
    'int16': ('int16_t', 'i16', '0'),
    'int32': ('int32_t', 'i32', '0'),
    'int64': ('int64_t', 'i64', '0'),
    'uint16': ('uint16_t', 'u16', '0'),
    'uint32': ('uint32_t', 'u32', '0'),
    'float64': ('double', 'f64', '0'),
    'uuid': ('Uuid', 'uuid', None),
}
VARIABLE = {'string', 'bytes', 'records'}
NOT_FLEXIBLE = 32767


class SchemaError(Exception):
    pass


class Versions:
    """A version range: lo..hi inclusive (hi None means open-ended), or empty."""

    def __init__(self, lo, hi, empty=False):
        self.lo, self.hi, self.empty = lo, hi, empty

    @staticmethod
    def parse(text, where):
        if text == 'none':
            return Versions(0, 0, True)
        m = re.fullmatch(r'(\d+)\+', text)
        if m:
            return Versions(int(m.group(1)), None)
        m = re.fullmatch(r'(\d+)-(\d+)', text)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise SchemaError(f'{where}: empty version range {text}')
            return Versions(lo, hi)
        m = re.fullmatch(r'(\d+)', text)
        if m:
            return Versions(int(m.group(1)), int(m.group(1)))
        raise SchemaError(f'{where}: bad version range {text!r}')

    def cap(self, limit):
        """This range intersected with the message's range `limit`."""
        if self.empty or limit.empty:
            return Versions(0, 0, True)
        lo = max(self.lo, limit.lo)
        his = [h for h in (self.hi, limit.hi) if h is not None]
        hi = min(his) if his else None
        if hi is not None and hi < lo:
            return Versions(0, 0, True)
        return Versions(lo, hi)

    def contains(self, other):
        if other.empty:
            return True
        if self.empty:
            return False
        if other.lo < self.lo:
            return False
        if self.hi is None:
            return True
        return other.hi is not None and other.hi <= self.hi

    def condition(self, within):
        """A C++ condition on `v` for this range, given that v is already in `within`."""
        if self.empty:
            return 'false'
        lo_needed = self.lo > within.lo
        hi_needed = self.hi is not None and (within.hi is None or self.hi < within.hi)
        if lo_needed and hi_needed and self.lo == self.hi:
            return f'v == {self.lo}'
        parts = []
        if lo_needed:
            parts.append(f'v >= {self.lo}')
        if hi_needed:
            parts.append(f'v <= {self.hi}')
        return ' && '.join(parts) or 'true'

    def __str__(self):
        if self.empty:
            return 'none'
        if self.hi is None:
            return f'v{self.lo}+'
        return f'v{self.lo}' if self.lo == self.hi else f'v{self.lo}-{self.hi}'


class Field:
    def __init__(self, name, type_text, attrs, comment, where):
        self.name, self.type_text, self.comment, self.where = name, type_text, comment, where
        self.attrs = attrs
        self.children = []
        self.struct = None  # the Struct for struct and array-of-struct fields

    @property
    def is_array(self):
        return self.type_text.startswith('[]')

    @property
    def elem(self):
        return self.type_text[2:] if self.is_array else self.type_text


class Struct:
    def __init__(self, name, fields):
        self.name, self.fields = name, fields


class Message:
    def __init__(self, kind, name, attrs, where):
        self.kind, self.name, self.attrs, self.where = kind, name, attrs, where
        self.fields = []
        self.structs = []  # nested, in declaration (dependency) order
        self.comments = []
        self.consts = []  # (name, C++ type, value, comment)


def parse_attrs(tokens, where):
    attrs = {}
    for t in tokens:
        if '=' in t:
            k, v = t.split('=', 1)
            attrs[k] = v
        else:
            attrs[t] = True
    return attrs


def parse_file(path):
    """Returns (file comment lines, [Message])."""
    messages, header_comments = [], []
    api = None
    current = None
    stack = []  # (indent level, Field)
    pending_comments = []
    with open(path) as f:
        lines = f.read().split('\n')
    for lineno, raw in enumerate(lines, 1):
        where = f'{os.path.basename(path)}:{lineno}'
        if raw.strip().startswith('#'):
            text = raw.strip()[1:].strip()
            if not messages and current is None and api is None:
                header_comments.append(text)
            else:
                pending_comments.append(text)
            continue
        if not raw.strip():
            continue
        comment = ''
        if ' #' in raw:
            raw, comment = raw.split(' #', 1)
            comment = comment.strip()
        indent = len(raw) - len(raw.lstrip(' '))
        if indent % 2:
            raise SchemaError(f'{where}: indentation must be a multiple of two spaces')
        tokens = raw.split()
        level = indent // 2
        if level == 0:
            word = tokens[0]
            if word == 'api':
                api = {'name': tokens[1], **parse_attrs(tokens[2:], where)}
                api['comments'] = pending_comments
                pending_comments = []
                current = None
            elif word in ('request', 'response'):
                if api is None:
                    raise SchemaError(f'{where}: {word} outside an api')
                current = Message(word, api['name'] + word.capitalize(), api, where)
                current.comments = api['comments'] + pending_comments
                pending_comments = []
                messages.append(current)
            elif word in ('data', 'header'):
                api = None
                current = Message(word, tokens[1], parse_attrs(tokens[2:], where), where)
                current.comments = pending_comments
                pending_comments = []
                messages.append(current)
            else:
                raise SchemaError(f'{where}: unknown directive {word!r}')
            stack = []
            continue
        if current is None:
            raise SchemaError(f'{where}: field outside a message')
        if tokens[0] == 'const':
            if level != 1 or len(tokens) != 4 or tokens[2] not in PRIMITIVES:
                raise SchemaError(f'{where}: expected `const NAME TYPE VALUE` at the top of a message')
            current.consts.append((tokens[1], PRIMITIVES[tokens[2]][0], tokens[3], comment))
            continue
        if len(tokens) < 2:
            raise SchemaError(f'{where}: a field needs a name and a type')
        field = Field(tokens[0], tokens[1], parse_attrs(tokens[2:], where), comment, where)
        if pending_comments:
            field.comment = ' '.join(pending_comments + ([comment] if comment else []))
            pending_comments = []
        while stack and stack[-1][0] >= level:
            stack.pop()
        if level == 1:
            current.fields.append(field)
        elif stack and stack[-1][0] == level - 1:
            stack[-1][1].children.append(field)
        else:
            raise SchemaError(f'{where}: field indented too far')
        stack.append((level, field))
    return header_comments, messages


def snake(name):
    return re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', name).lower()


class Generator:
    def __init__(self):
        self.apis = {}  # key -> (name, request Message, response Message)

    def resolve(self, m):
        """Checks a message, fills in versions, and collects its nested structs."""
        if m.kind in ('request', 'response'):
            a = m.attrs
            m.valid = Versions.parse(a['versions'], m.where)
            m.api_key = int(a['key'])
            m.api_name = a['name']
        else:
            m.valid = Versions.parse(m.attrs['versions'], m.where)
            m.api_key = None
        flex = m.attrs.get('flexible', 'none')
        m.flexible = Versions.parse(flex, m.where)
        if not m.flexible.empty and m.flexible.hi is not None:
            raise SchemaError(f'{m.where}: flexible versions must be open-ended (N+)')
        m.flexible_from = NOT_FLEXIBLE if m.flexible.empty else m.flexible.lo
        known = {}
        self.resolve_fields(m, m.fields, m.valid, known)

    def resolve_fields(self, m, fields, within, known):
        names = set()
        tags = set()
        for f in fields:
            if f.name in names:
                raise SchemaError(f'{f.where}: duplicate field {f.name}')
            names.add(f.name)
            f.versions = Versions.parse(f.attrs.get('versions', '0+'), f.where).cap(within)
            if f.versions.empty:
                raise SchemaError(f'{f.where}: field {f.name} is in no version of {m.name}')
            f.nullable = Versions.parse(f.attrs['nullable'], f.where).cap(f.versions) if 'nullable' in f.attrs else Versions(0, 0, True)
            f.tag = int(f.attrs['tag']) if 'tag' in f.attrs else None
            f.classic = 'classic' in f.attrs
            if f.tag is not None:
                if f.tag in tags:
                    raise SchemaError(f'{f.where}: duplicate tag {f.tag}')
                tags.add(f.tag)
                if m.flexible.empty or not m.flexible.contains(f.versions):
                    raise SchemaError(f'{f.where}: tagged field {f.name} outside the flexible versions')
            elem = f.elem
            if elem in PRIMITIVES or elem in VARIABLE:
                if f.children:
                    raise SchemaError(f'{f.where}: a {elem} has no fields')
                if not f.nullable.empty and elem not in ('string', 'bytes', 'records') and not f.is_array:
                    raise SchemaError(f'{f.where}: {elem} cannot be nullable')
                continue
            if not re.fullmatch(r'[A-Z][A-Za-z0-9]*', elem):
                raise SchemaError(f'{f.where}: unknown type {elem!r}')
            if not f.nullable.empty and not f.is_array:
                raise SchemaError(f'{f.where}: struct fields cannot be nullable')
            if f.children:
                if elem in known:
                    raise SchemaError(f'{f.where}: struct {elem} defined twice in {m.name}')
                s = Struct(elem, f.children)
                known[elem] = s
                self.resolve_fields(m, f.children, f.versions, known)
                m.structs.append(s)
                f.struct = s
            elif elem in known:
                f.struct = known[elem]
            else:
                raise SchemaError(f'{f.where}: struct {elem} has no fields and is not defined earlier')

    # --- C++ types and defaults ---

    def elem_cpp(self, f):
        elem = f.elem
        if elem in PRIMITIVES:
            return PRIMITIVES[elem][0]
        if elem == 'string':
            return 'std::string'
        if elem == 'bytes':
            return 'std::vector<std::byte>'
        if elem == 'records':
            return 'RecordsField'
        return elem

    def cpp_type(self, f):
        t = self.elem_cpp(f)
        if f.is_array:
            t = f'std::vector<{t}>'
        if not f.nullable.empty and f.elem != 'records':
            t = f'std::optional<{t}>'
        return t

    def default_init(self, f):
        d = f.attrs.get('default')
        if f.is_array or f.struct is not None or f.elem in ('records', 'bytes', 'uuid'):
            if d not in (None, 'null', 'empty'):
                raise SchemaError(f'{f.where}: {f.type_text} takes no default')
            return ''
        if f.elem == 'string':
            if d is None or d == 'null':
                return ''
            if not f.nullable.empty:
                return f' = std::string({cpp_string(d)})'
            return f' = {cpp_string(d)}'
        if d is None:
            return '' if f.elem == 'uuid' else f' = {PRIMITIVES[f.elem][2]}'
        if f.elem == 'bool':
            if d not in ('true', 'false'):
                raise SchemaError(f'{f.where}: bad bool default {d}')
            return f' = {d}'
        if not re.fullmatch(r'-?\d+(\.\d+)?', d):
            raise SchemaError(f'{f.where}: bad default {d}')
        if d == '-2147483648':
            return ' = INT32_MIN'
        if f.elem == 'int64' and abs(int(float(d))) > 2**31:
            return f' = {d}LL'
        return f' = {d}'

    def is_default_expr(self, f):
        x = f.name
        if not f.nullable.empty and f.elem != 'records':
            return f'!{x}.has_value()' if f.attrs.get('default') in (None, 'null') else f'{x} == {self.cpp_type(f)}{{}}'
        if f.is_array or f.elem in ('string', 'bytes'):
            return f'{x}.empty()' if 'default' not in f.attrs or f.attrs['default'] in ('', 'empty') else f'{x} == {f.default_value_expr}'
        if f.elem == 'records':
            return f'{x}.size() == 0'
        if f.struct is not None or f.elem == 'uuid':
            return f'{x} == {self.elem_cpp(f)}{{}}'
        init = self.default_init(f)
        return f'{x} == {init[3:] if init else "0"}'

    # --- serde statements ---

    def elem_stmt(self, f, io, e):
        """The statement that reads or writes one element `e` of field f (array element or value)."""
        elem = f.elem
        flex = 'false' if f.classic or not self.flexible else 'flex'
        if elem in PRIMITIVES:
            return f'{io}.{PRIMITIVES[elem][1]}({e});'
        if f.struct is not None:
            return f'{e}.serde({io}, v);'
        if elem == 'string':
            return f'{io}.string({e}, {flex});'
        if elem == 'bytes':
            return f'{io}.bytes({e}, {flex});'
        raise SchemaError(f'{f.where}: arrays of {elem} are not supported')

    def field_stmt(self, f, io):
        flex = 'false' if f.classic or not self.flexible else 'flex'
        nullable = None if f.nullable.empty else f.nullable.condition(f.versions)
        x = f.name
        if f.is_array:
            e = self.elem_cpp(f)
            each = f'[&]({e}& e) {{ {self.elem_stmt(f, io, "e")} }}'
            if nullable is None:
                return f'{io}.array({x}, {flex}, {each});'
            return f'{io}.narray({x}, {flex}, {nullable}, {each});'
        if f.elem == 'records':
            return f'{io}.records({x}, {flex});'
        if nullable is not None:
            fn = 'nstring' if f.elem == 'string' else 'nbytes'
            return f'{io}.{fn}({x}, {flex}, {nullable});'
        return self.elem_stmt(f, io, x)

    def serde_body(self, m, fields, within, indent):
        pad = ' ' * indent
        out = []
        if not m.flexible.empty:
            out.append(f'{pad}const bool flex = {m.flexible.condition(within)};')
        for f in fields:
            if f.tag is not None:
                continue
            cond = f.versions.condition(within)
            stmt = self.field_stmt(f, 'io')
            out.append(f'{pad}{stmt}' if cond == 'true' else f'{pad}if ({cond}) {stmt}')
        if not m.flexible.empty:
            tagged = sorted((f for f in fields if f.tag is not None), key=lambda f: f.tag)
            if not tagged:
                out.append(f'{pad}if (flex) io.tagged_fields([](auto&) {{}});')
            else:
                out.append(f'{pad}if (flex) {{')
                out.append(f'{pad}  io.tagged_fields([&](auto& tags) {{')
                for f in tagged:
                    cond = f.versions.condition(within)
                    stmt = f'tags.field({f.tag}, {self.is_default_expr(f)}, [&](auto& tio) {{ {self.field_stmt(f, "tio")} }});'
                    out.append(f'{pad}    {stmt}' if cond == 'true' else f'{pad}    if ({cond}) {stmt}')
                out.append(f'{pad}  }});')
                out.append(f'{pad}}}')
        return out

    def field_decl(self, f, indent):
        pad = ' ' * indent
        notes = [str(f.versions)]
        if not f.nullable.empty:
            notes.append(f'nullable {f.nullable}')
        if f.tag is not None:
            notes.append(f'tag {f.tag}')
        if f.comment:
            notes.append(f.comment)
        return f'{pad}{self.cpp_type(f)} {f.name}{self.default_init(f)};  // {"; ".join(notes)}'

    def struct_code(self, m, name, fields, within, indent, extra=()):
        pad = ' ' * indent
        out = [f'{pad}struct {name} {{']
        out.extend(extra)
        for f in fields:
            out.append(self.field_decl(f, indent + 2))
        out.append('')
        out.append(f'{pad}  template <typename IO>')
        if not fields and m.flexible.empty:
            out.append(f'{pad}  void serde(IO&, int16_t) {{}}')
        else:
            body = self.serde_body(m, fields, within, indent + 4)
            uses_v = any(re.search(r'\bv\b', line) for line in body)
            out.append(f'{pad}  void serde(IO& io, int16_t{" v" if uses_v else ""}) {{')
            out.extend(body)
            out.append(f'{pad}  }}')
        out.append(f'{pad}  bool operator==(const {name}&) const = default;')
        out.append(f'{pad}}};')
        return out

    def message_code(self, m):
        self.flexible = not m.flexible.empty
        out = [f'// {c}' for c in m.comments]
        consts = [f'  static constexpr const char* kName = "{m.name}";']
        if m.api_key is not None:
            consts.append(f'  static constexpr ApiKey kApiKey = ApiKey::{snake(m.api_name)};')
        if 'type' in m.attrs:
            consts.append(f'  static constexpr int16_t kRecordType = {int(m.attrs["type"])};')
        consts.append(f'  static constexpr int16_t kMinVersion = {m.valid.lo};')
        consts.append(f'  static constexpr int16_t kMaxVersion = {m.valid.hi};')
        consts.append(f'  static constexpr int16_t kFlexibleFrom = {"kNotFlexible" if m.flexible.empty else m.flexible.lo};')
        for name, ctype, value, comment in m.consts:
            consts.append(f'  static constexpr {ctype} {name} = {value};' + (f'  // {comment}' if comment else ''))
        body = []
        for s in m.structs:
            owner = self.find_owner(m.fields, s)
            body.extend(self.struct_code(m, s.name, s.fields, owner.versions, 2))
            body.append('')
        extra = consts + ([''] + body if body else [])
        out.extend(self.struct_code(m, m.name, m.fields, m.valid, 0, extra))
        return out

    def find_owner(self, fields, s):
        for f in fields:
            if f.struct is s and f.children:
                return f
            found = self.find_owner(f.children, s)
            if found:
                return found
        return None

    def generate_file(self, path, out_dir):
        comments, messages = parse_file(path)
        base = os.path.splitext(os.path.basename(path))[0]
        for m in messages:
            self.resolve(m)
            if m.valid.hi is None:
                raise SchemaError(f'{m.where}: a message needs a closed version range')
            if m.api_key is not None:
                entry = self.apis.setdefault(m.api_key, {'name': m.api_name, 'valid': m.valid, 'flex': m.flexible_from})
                if entry['name'] != m.api_name:
                    raise SchemaError(f'{m.where}: API key {m.api_key} is also {entry["name"]}')
        lines = [f'// Generated by src/protocol/schema/generate.py from src/protocol/schema/{base}.def. Do not edit.']
        lines += [f'// {c}' if c else '//' for c in comments]
        lines += ['#pragma once', '', '#include "protocol/generated/api_keys.h"', '#include "protocol/wire.h"', '',
                  'namespace samsa::kafka {', '']
        for m in messages:
            lines.extend(self.message_code(m))
            lines.append('')
        lines.append('}  // namespace samsa::kafka')
        write_if_changed(os.path.join(out_dir, base + '.h'), '\n'.join(lines) + '\n')
        return base, messages


def cpp_string(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def write_if_changed(path, text):
    """Leaves an unchanged file alone, so that its includers are not rebuilt."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, 'w') as f:
        f.write(text)


def api_keys_header(apis):
    lines = ['// Generated by src/protocol/schema/generate.py from src/protocol/schema/*.def. Do not edit.',
             '// Every API the schema describes: its key and the versions described (what samsa can',
             '// decode and encode; what it advertises is in protocol/api_versions.h).',
             '#pragma once', '', '#include <cstdint>', '', 'namespace samsa::kafka {', '',
             'inline constexpr int16_t kNotFlexible = 32767;', '', 'enum class ApiKey : int16_t {']
    for key in sorted(apis):
        lines.append(f'  {snake(apis[key]["name"])} = {key},')
    lines += ['};', '', 'struct DescribedApi {', '  ApiKey key;', '  const char* name;', '  int16_t min_version;',
              '  int16_t max_version;', '  int16_t flexible_from;  // kNotFlexible: no flexible version', '};', '',
              'inline constexpr DescribedApi kDescribedApis[] = {']
    for key in sorted(apis):
        a = apis[key]
        lines.append(f'    {{ApiKey::{snake(a["name"])}, "{a["name"]}", {a["valid"].lo}, {a["valid"].hi}, {a["flex"]}}},')
    lines += ['};', '',
              'constexpr const DescribedApi* described_api(int16_t key) {',
              '  for (const DescribedApi& a : kDescribedApis) {',
              '    if (static_cast<int16_t>(a.key) == key) return &a;',
              '  }',
              '  return nullptr;',
              '}', '',
              '// Flexible versions use request header v2 and response header v1 (compact types, tagged fields).',
              'constexpr bool is_flexible(ApiKey key, int16_t version) {',
              '  const DescribedApi* a = described_api(static_cast<int16_t>(key));',
              '  return a != nullptr && version >= a->flexible_from;',
              '}', '',
              '}  // namespace samsa::kafka']
    return '\n'.join(lines) + '\n'


def all_messages_header(files):
    lines = ['// Generated by src/protocol/schema/generate.py from src/protocol/schema/*.def. Do not edit.',
             '// Every message and data struct the schema describes, for code that enumerates them',
             '// (round-trip tests): for_each_message(f) calls f.template operator()<M>() for each.',
             '#pragma once', '']
    for base, _ in files:
        lines.append(f'#include "protocol/generated/{base}.h"')
    lines += ['', 'namespace samsa::kafka {', '', 'template <typename F>', 'void for_each_message(F&& f) {']
    for _, messages in files:
        for m in messages:
            lines.append(f'  f.template operator()<{m.name}>();')
    lines += ['}', '', '}  // namespace samsa::kafka']
    return '\n'.join(lines) + '\n'


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    gen = Generator()
    files = []
    try:
        for path in sorted(argv[2:]):
            files.append(gen.generate_file(path, out_dir))
    except SchemaError as e:
        print(f'schema error: {e}', file=sys.stderr)
        return 1
    write_if_changed(os.path.join(out_dir, 'api_keys.h'), api_keys_header(gen.apis))
    write_if_changed(os.path.join(out_dir, 'all_messages.h'), all_messages_header(files))
    with open(os.path.join(out_dir, 'stamp'), 'w') as f:
        f.write('generated\n')  # the build's record that generation ran
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

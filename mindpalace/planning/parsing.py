"""Reading one call out of a model's reply, and checking it against the tool and skill schemas.

A reply is data. It is read with `json` and the small tokenizer below, never evaluated. Small models damage
their output in a few typical ways (trailing commas, single quotes, unquoted keys, a missing last brace or
parenthesis); each of those has one explicit, bounded repair here. Everything else is a ReplyError whose
message can be shown to the model in a repair prompt.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from mindpalace.planning.backends.base import ToolCall

MAX_REPLY_CHARS = 4000  # also keeps every integer below Python's 4300-digit parsing limit
MAX_CANDIDATES = 16  # objects / call openings tried per reply: keeps a reply full of braces cheap to reject
MAX_MISSING_BRACES = 2  # "{...{...": the closing braces a truncated reply may lack
MAX_NESTING = 8  # argument values nested deeper than this are not something any schema here asks for

NAME_KEYS = ("tool", "name", "function", "skill", "action")  # in order of preference
ARGUMENT_KEYS = ("arguments", "args", "parameters")

NO_CALL = "no JSON object or call like name(arg=...) found"


class ReplyError(ValueError):
    """Why a reply was rejected, phrased so it can be shown to the model in a repair prompt."""


@dataclass(frozen=True)
class Call:
    """One tool or skill call. Not hashable (arguments is a dict): compare and store calls by `key()`."""

    name: str
    arguments: dict[str, Any]

    def key(self) -> str:
        """Canonical text for comparing calls: the name and the arguments as sorted-key JSON."""
        return f"{self.name} {json.dumps(self.arguments, sort_keys=True, separators=(',', ':'), ensure_ascii=False)}"

    def render(self) -> str:
        """The call in the syntax models are asked to write, e.g. navigate_to(target="object:12")."""
        arguments = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in self.arguments.items())
        return f"{self.name}({arguments})"


# ====================================================================== tokenizer
@dataclass(frozen=True)
class _Token:
    kind: str  # "string" | "number" | "word" | "punct" | "end"
    text: str  # as written (for strings: the unescaped value)


_END = _Token("end", "")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[{}\[\]():,=])
    )""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_INTEGER = re.compile(r"-?\d+")
_LITERALS: dict[str, Any] = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}


class _SyntaxFail(Exception):
    """A candidate that is not a readable call; the search moves on to the next one."""


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if len(escape) == 5:
            return chr(int(escape[1:], 16))
        return _ESCAPES.get(escape, escape)  # \" \' \\ \/ and unknown escapes give the character itself

    return _join_surrogates(_ESCAPE.sub(replace, body))


def _join_surrogates(text: str) -> str:
    """A character beyond the BMP written as two escapes ("\\ud83d\\ude00", as json.loads reads it) becomes one
    character; a lone surrogate stays, for `_check_text` to refuse."""
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return text


def _tokens(text: str, pos: int) -> Iterator[_Token]:
    """Tokens of `text` from `pos`; anything the tokenizer does not know ends the candidate."""
    while True:
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip():
                raise _SyntaxFail(f"unexpected {text[pos:].lstrip()[:12]!r}")
            return
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        yield _Token(kind, _unescape(value[1:-1]) if kind == "string" else value)


def _is(token: _Token, punct: str) -> bool:
    return token.kind == "punct" and token.text == punct


def _number(text: str) -> int | float:
    return int(text) if _INTEGER.fullmatch(text) else float(text)


def _scalar(token: _Token) -> Any:
    if token.kind == "string":
        return token.text
    if token.kind == "number":
        return _number(token.text)
    if token.kind == "word" and token.text in _LITERALS:
        return _LITERALS[token.text]
    raise _SyntaxFail(f"expected a value, got {token.text or 'the end'!r}")


# ====================================================================== JSON objects
def _object_span(text: str, start: int) -> str | None:
    """The balanced {...} starting at `start` (honouring strings), closed if only its last braces are missing."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    if quote or depth > MAX_MISSING_BRACES:
        return None
    return text[start:] + "}" * depth


def _repair_json(text: str) -> str:
    """Rewrite nearly-JSON token by token: strings re-quoted with double quotes, unquoted keys quoted,
    Python literals spelled as JSON, trailing commas dropped. Bare words and call syntax are not repaired."""
    tokens = list(_tokens(text, 0))
    out: list[str] = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else _END
        if token.kind == "string":
            out.append(json.dumps(token.text))
        elif token.kind == "number":
            out.append(json.dumps(_number(token.text)))
        elif token.kind == "word" and _is(following, ":"):
            out.append(json.dumps(token.text))
        elif token.kind == "word" and token.text in _LITERALS:
            out.append(json.dumps(_LITERALS[token.text]))
        elif _is(token, ",") and (_is(following, "}") or _is(following, "]")):
            continue
        elif token.kind == "punct" and token.text in "{}[]:,":
            out.append(token.text)
        else:
            raise _SyntaxFail(f"unexpected {token.text!r} in a JSON object")
    return "".join(out)


def _load_object(text: str) -> dict[str, Any] | None:
    """A JSON object from `text` as written or after `_repair_json`; None when neither reads as an object."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        try:
            value = json.loads(_repair_json(text))
        except (ValueError, RecursionError, _SyntaxFail):
            return None
    return value if isinstance(value, dict) else None


def _arguments(raw: Any) -> dict[str, Any]:
    """The arguments of a call: an object, or (OpenAI style) a JSON string of one; empty or null means none."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if text in ("", "null"):
            return {}
        span = _object_span(text, 0) if text.startswith("{") else None
        value = _load_object(span) if span is not None else None
        if value is not None:
            return value
    raise ReplyError('the call\'s arguments must be a JSON object like {"object": "mug"}')


def _call_from_object(obj: dict[str, Any]) -> Call | None:
    """{"tool": name, "arguments": {...}} and its spellings; without an arguments key the other keys are the arguments."""
    name_key = next((k for k in NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name_key is None:
        return None
    arguments_key = next((k for k in ARGUMENT_KEYS if k in obj), None)
    if arguments_key is not None:
        return Call(obj[name_key].strip(), _arguments(obj[arguments_key]))
    return Call(obj[name_key].strip(), {k: v for k, v in obj.items() if k != name_key})


def _find_json_call(text: str) -> Call | None:
    start = text.find("{")
    for _ in range(MAX_CANDIDATES):
        if start < 0:
            return None
        span = _object_span(text, start)
        obj = _load_object(span) if span is not None else None
        call = _call_from_object(obj) if obj is not None else None
        if call is not None:
            return call
        start = text.find("{", start + 1)  # also looks inside an object that is not a call: {"step": {"tool": ...}}
    return None


# ====================================================================== call syntax
_CALL_OPENING = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)\(")


def _parse_call(text: str, name: str, pos: int) -> Call:
    """name(key=value, ...) or name("positional", ...) from just after the opening parenthesis.
    The end of the reply stands in for a missing ')', and a trailing comma before ')' is tolerated."""
    tokens = _tokens(text, pos)
    arguments: dict[str, Any] = {}
    token = next(tokens, _END)
    while not (_is(token, ")") or token is _END):
        if token.kind == "string" and not arguments:
            arguments["_0"] = token.text  # mapped to a parameter by validate_call
        elif token.kind == "word":
            if not _is(next(tokens, _END), "="):
                raise _SyntaxFail(f"expected '=' after {token.text!r}")
            if token.text in arguments:
                raise _SyntaxFail(f"argument {token.text!r} given twice")
            arguments[token.text] = _scalar(next(tokens, _END))
        else:
            raise _SyntaxFail(f"expected an argument, got {token.text or 'the end'!r}")
        token = next(tokens, _END)
        if _is(token, ","):
            token = next(tokens, _END)
        elif not (_is(token, ")") or token is _END):
            raise _SyntaxFail(f"expected ',' or ')', got {token.text!r}")
    return Call(name, arguments)


def _find_syntax_call(text: str) -> Call | None:
    for match in list(_CALL_OPENING.finditer(text))[:MAX_CANDIDATES]:
        try:
            return _parse_call(text, match.group(1), match.end())
        except _SyntaxFail:
            continue
    return None


# ====================================================================== parsing a reply
_FENCE = re.compile(r"```[A-Za-z0-9_-]*")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# In argument values: control characters other than tab and newlines (NUL, escape sequences, C1 codes) are in no
# household phrase, and NUL cuts text short in SQLite's string functions.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _check_text(text: str, what: str, controls: bool = False) -> None:
    """Refuse text that cannot be stored as UTF-8 (a lone surrogate, e.g. from an escape "\\ud800"), and with
    `controls` also control characters. Caught here, not when memory or the report writes the text later."""
    found = _SURROGATE.search(text) or (_CONTROL.search(text) if controls else None)
    if found is not None:
        kind = "a lone surrogate" if _SURROGATE.match(found.group()) else "a control character"
        raise ReplyError(f"{what} holds text that is not plain Unicode ({kind}, U+{ord(found.group()):04X}); write plain text")


def _check_nesting(arguments: dict[str, Any]) -> None:
    stack: list[tuple[Any, int]] = [(arguments, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ReplyError("the arguments are nested too deeply; give plain values")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def parse_reply(text: str, tool_calls: Sequence[ToolCall] = ()) -> Call:
    """The call in a reply: the first native tool call when there is one, else the first call in the text."""
    _check_text(text, "the reply")  # all of it: the reply is shown in reports, not only the call read from it
    if tool_calls:
        native = tool_calls[0]
        if not native.name.strip():
            raise ReplyError("the tool call has no name")
        if len(native.arguments) > MAX_REPLY_CHARS:
            raise ReplyError(f"the tool call's arguments are too long (at most {MAX_REPLY_CHARS} characters)")
        _check_text(native.name, "the tool call's name")
        _check_text(native.arguments, "the tool call's argument text")
        call = Call(native.name.strip(), _arguments(native.arguments))
    else:
        if not text.strip():
            raise ReplyError("the reply was empty")
        if len(text) > MAX_REPLY_CHARS:
            raise ReplyError(f"the reply is too long ({len(text)} characters; at most {MAX_REPLY_CHARS})")
        body = _FENCE.sub(" ", text).strip()  # without fences, the end of a fenced call is the end of the reply
        found = _find_json_call(body) or _find_syntax_call(body)
        if found is None:
            raise ReplyError(NO_CALL)
        call = found
    if not call.name:
        raise ReplyError("the call has no name")
    _check_nesting(call.arguments)
    return call


# ====================================================================== validating a call
# Arguments are plain values: object ids, room names, short answers. These fragments show up in code and in
# prompt-injection text but not in household language, so a value carrying one is refused rather than passed
# on to a skill, a memory query or a later prompt. The list is short on purpose: each entry must stay clear of
# everyday text such as "the red mug's handle" or "It is in the top drawer of the dresser."
_SUSPICIOUS = re.compile(
    r"import\s|__|eval\(|exec\(|os\.system|subprocess|lambda|`|<script|\$\("
    r"|;\s*(?:rm|curl|wget|sh|bash|python|sudo|chmod|ls)\b"  # shell command chaining
    r"|ignore (?:previous|all|the above)|disregard|system prompt|you are now|new instructions"
)
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _show(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:40] + "...")


def _coerce(value: Any, schema: Any) -> Any:
    """A numeric string for a number/integer property becomes the number; nothing else is coerced."""
    if not isinstance(value, str) or not isinstance(schema, dict):
        return value
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    text = value.strip()
    if "string" in types or len(text) > 32 or not _NUMERIC.fullmatch(text):
        return value
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in types:
        return _number(text)
    return value


def _error_text(error: Any, name: str, properties: dict[str, Any]) -> str:
    """A jsonschema error in the words a model understands."""
    at_root = not error.path and isinstance(error.instance, dict)
    unknown = [k for k in error.instance if k not in properties] if at_root else []
    missing = [k for k in error.validator_value if k not in error.instance] if at_root and error.validator == "required" else []
    if error.validator == "additionalProperties" and unknown:
        known = ", ".join(properties) or "none"
        return f"unknown argument {_show(str(unknown[0]))} for {name} (arguments: {known})"
    if missing:
        return f"missing required argument {_show(str(missing[0]))} for {name}"
    message = error.message if len(error.message) <= 160 else error.message[:160] + "..."
    if error.path:
        return f"argument {_show(str(error.path[0]))}: {message}"
    return f"arguments of {name}: {message}"


def _strings(value: Any) -> Iterator[str]:
    """Every string in a value, the keys of nested objects included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)


def _numbers(value: Any) -> Iterator[float]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def validate_call(call: Call, functions: Mapping[str, dict[str, Any]]) -> Call:
    """The call with its arguments checked against the function's JSON schema (after mapping a positional
    argument and light numeric coercion), and refused when an argument looks like code or instructions."""
    # Before anything quotes the model's text back in an error message.
    _check_text(call.name, "the call's name", controls=True)
    for key, value in call.arguments.items():
        _check_text(str(key), "an argument's name", controls=True)
        for text in _strings(value):
            _check_text(text, f"argument {_show(str(key))}", controls=True)
    spec = functions.get(call.name)
    if spec is None:
        raise ReplyError(f"unknown tool or skill {_show(call.name)}; choose one of: {', '.join(functions)}")
    parameters: dict[str, Any] = spec.get("function", spec).get("parameters") or {"type": "object", "properties": {}}
    properties: dict[str, Any] = parameters.get("properties", {})
    arguments = dict(call.arguments)
    if "_0" in arguments:
        first = (parameters.get("required") or list(properties) or [None])[0]
        if first is None:
            raise ReplyError(f"{call.name} takes no arguments")
        if first in arguments:
            raise ReplyError(f"argument {_show(first)} given twice")
        arguments = {(first if k == "_0" else k): v for k, v in arguments.items()}
    arguments = {k: _coerce(v, properties.get(k)) for k, v in arguments.items()}

    errors = sorted(Draft202012Validator(parameters).iter_errors(arguments), key=lambda e: (len(e.path), e.message))
    if errors:
        texts = list(dict.fromkeys(_error_text(e, call.name, properties) for e in errors))
        raise ReplyError("; ".join(texts[:3]))
    for key, value in arguments.items():
        if any(not math.isfinite(number) for number in _numbers(value)):
            raise ReplyError(f"argument {_show(key)} must be a finite number")
        if any(_SUSPICIOUS.search(" ".join(text.lower().split())) for text in _strings(value)):
            raise ReplyError(f"argument {_show(key)} looks like code or instructions; give plain values")
    return Call(call.name, arguments)


def parse_and_validate(text: str, tool_calls: Sequence[ToolCall], functions: Mapping[str, dict[str, Any]]) -> Call:
    """parse_reply, then validate_call."""
    return validate_call(parse_reply(text, tool_calls), functions)

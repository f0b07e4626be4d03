"""A request body means exactly one command, or it is refused naming the member at fault.

Litestar's own decoding is lenient where a command must not be: it ignores members it
does not know (one naming another tenant, say), takes a key twice, turns "5" into 5 and
any list of characters into a tuple. Each body is read here first, strictly (JSON that
means one thing, then a cattrs structuring that forbids extra members and converts no
type into another), before the handler sees what Litestar decoded from the same bytes.
"""

import enum
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import attrs
import cattrs
from annotated_types import Ge, MaxLen
from cattrs.errors import (
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn
from litestar.openapi.spec import Schema
from litestar.plugins.attrs import AttrsSchemaPlugin
from litestar.typing import FieldDefinition

from calldesk.adapters.strict_json import MalformedJSON, parse_json
from calldesk.domain.record_fields import FieldValue

if TYPE_CHECKING:  # the type Litestar's plugin protocol names, as Litestar imports it
    from litestar._openapi.schema_generation import SchemaCreator

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


@attrs.frozen
class BodyFault:
    """What is wrong with one member of a body: `member` is its JSON path (`$.a.b`)."""

    member: str
    message: str


class BodyRefused(Exception):
    """The body is not JSON that means one thing (`malformed`), or not this request's."""

    def __init__(self, detail: str, faults: tuple[BodyFault, ...], malformed: bool) -> None:
        super().__init__(detail)
        self.faults, self.malformed = faults, malformed


def checked_body(raw: bytes, shape: type | None) -> None:
    """Refuse a body that is not exactly one value of `shape` (None: no body at all;
    an empty body, or `{}`, is then what a request without one sends)."""
    if shape is None and not raw.strip():
        return
    try:
        value = parse_json(raw)
    except MalformedJSON as error:
        raise BodyRefused(str(error), (BodyFault("$", str(error)),), True) from None
    if shape is None:
        if value != {}:
            fault = BodyFault("$", "this request takes no body; send none, or {}")
            raise BodyRefused(fault.message, (fault,), False)
        return
    try:
        _strict.structure(value, shape)
    except (TypeError, ValueError) as error:  # the body itself, not one of its members
        fault = BodyFault("$", str(error))
        raise BodyRefused(fault.message, (fault,), False) from None
    except cattrs.BaseValidationError as error:
        lines = cattrs.transform_error(error, format_exception=_described)
        faults = tuple(fault for line in lines for fault in _faults(line))
        detail = "; ".join(f"{fault.member}: {fault.message}" for fault in faults)
        raise BodyRefused(detail, faults, False) from None


_EXTRA = "extra members: "


def _described(error: BaseException, _: type | None) -> str:
    if isinstance(error, ForbiddenExtraKeysError):
        return _EXTRA + ",".join(sorted(error.extra_fields))
    if isinstance(error, KeyError):
        return "required, and missing"
    return str(error)


def _faults(line: str) -> list[BodyFault]:
    """cattrs' "message @ $.path" lines, an extra member each a fault of its own."""
    message, _, path = line.rpartition(" @ ")
    if message.startswith(_EXTRA):
        names = message.removeprefix(_EXTRA).split(",")
        return [BodyFault(f"{path}.{name}", "not a member of this body") for name in names]
    return [BodyFault(path, message)]


def _json_type(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _exactly(kind: type, *more: type) -> Callable[[object, type], Any]:
    """A structure hook that takes only values of these JSON types (bool is no int)."""
    allowed = (kind, *more)

    def structure(value: object, _: type) -> Any:
        if type(value) not in allowed:
            expected = _JSON_TYPE_NAMES[kind]
            raise TypeError(f"expected {expected}, got {_json_type(value)}")
        return value

    return structure


def _sequence_of(shape: Any) -> Callable[[object, type], Any]:
    """Tuples and lists of a body come from JSON arrays only (not strings, not objects);
    a fault names its element's index, as cattrs' own sequences do."""
    (item, *_) = typing.get_args(shape) or (Any,)
    origin = typing.get_origin(shape)

    def structure(value: object, _: type) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"expected an array, got {_json_type(value)}")
        items, errors = [], []
        for index, element in enumerate(value):
            try:
                items.append(_strict.structure(element, item))
            except Exception as error:
                note = IterableValidationNote(f"Structuring @ index {index}", index, item)
                error.__notes__ = [*getattr(error, "__notes__", []), note]
                errors.append(error)
        if errors:
            raise IterableValidationError(f"While structuring {shape!r}", errors, shape)
        return tuple(items) if origin is tuple else items

    return structure


def _mapping_of(shape: Any) -> Callable[[object, type], Any]:
    """A dict of a body comes from a JSON object; each value is read as its shape, a
    fault naming its key."""
    key_shape, value_shape = typing.get_args(shape)

    def structure(value: object, _: type) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {_json_type(value)}")
        items, faults = {}, []
        for key, element in value.items():
            try:
                items[_strict.structure(key, key_shape)] = _strict.structure(
                    element, value_shape
                )
            except (TypeError, ValueError) as error:
                faults.append(f"{key}: {error}")
        if faults:
            raise ValueError("; ".join(faults))
        return items

    return structure


def _json_scalar(value: object, _: type) -> Any:
    """A record field's value: text, a number, true or false, or null; never an array
    or an object."""
    if value is not None and type(value) not in (str, int, float, bool):
        raise TypeError(
            f"expected text, a number, true, false or null, got {_json_type(value)}"
        )
    return value


def _object_of(shape: type) -> Callable[[object, type], Any]:
    """An attrs body comes from a JSON object, with no member it does not declare."""
    structure_members: Callable[[Any, Any], Any] = make_dict_structure_fn(
        shape, _strict, _cattrs_forbid_extra_keys=True
    )

    def structure(value: object, _: type) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {_json_type(value)}")
        return structure_members(value, shape)

    return structure


def _enumeration(shape: type[enum.Enum]) -> Callable[[object, type], Any]:
    def structure(value: object, _: type) -> Any:
        try:
            return shape(value)
        except ValueError:
            known = ", ".join(repr(member.value) for member in shape)
            raise ValueError(f"expected one of {known}, got {value!r}") from None

    return structure


def _within_limits(shape: Any) -> Callable[[object, type], Any]:
    """A shape with limits (annotated_types' MaxLen, Ge): its value, then its limits."""
    base, *limits = typing.get_args(shape)

    def structure(value: object, _: type) -> Any:
        structured = _strict.structure(value, base)
        for limit in limits:
            if isinstance(limit, MaxLen) and len(structured) > limit.max_length:
                unit = "characters" if isinstance(structured, str) else "items"
                raise ValueError(
                    f"at most {limit.max_length} {unit}, not {len(structured)}"
                )
            if isinstance(limit, Ge) and structured < limit.ge:
                raise ValueError(f"at least {limit.ge}, not {structured}")
        return structured

    return structure


def _is_limited(shape: Any) -> bool:
    return typing.get_origin(shape) is Annotated


def _is_sequence(shape: Any) -> bool:
    return typing.get_origin(shape) in (tuple, list)


def _is_mapping(shape: Any) -> bool:
    return typing.get_origin(shape) is dict


_strict = cattrs.Converter(forbid_extra_keys=True)
_strict.register_structure_hook(str, _exactly(str))
_strict.register_structure_hook(int, _exactly(int))
_strict.register_structure_hook(float, _exactly(float, int))
_strict.register_structure_hook(bool, _exactly(bool))
_strict.register_structure_hook_factory(_is_limited, _within_limits)
_strict.register_structure_hook_factory(_is_sequence, _sequence_of)
_strict.register_structure_hook_factory(_is_mapping, _mapping_of)
_strict.register_structure_hook(FieldValue, _json_scalar)
_strict.register_structure_hook_factory(attrs.has, _object_of)
_strict.register_structure_hook_factory(
    lambda shape: isinstance(shape, type) and issubclass(shape, enum.Enum), _enumeration
)


class StrictAttrsSchemas(AttrsSchemaPlugin):
    """The OpenAPI document says what `checked_body` does: no member beyond those an
    attrs shape declares."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: "SchemaCreator"
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema

"""OpenAI's error answers: `{"error": {"message", "type", "param", "code"}}` with the status the API gives."""

JSONObject = dict[str, object]

INVALID_REQUEST = "invalid_request_error"
KEYS_PAGE = "https://platform.openai.com/account/api-keys"


class APIErrorAnswer(Exception):
    """An error the API answers with; raised by the checks, turned into the vendor's body by the server."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type_: str = INVALID_REQUEST,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type_

    def body(self) -> JSONObject:
        """The answer's JSON body."""
        return error_body(self.message, type_=self.type, param=self.param, code=self.code)


def error_body(message: str, *, type_: str, param: str | None = None, code: str | None = None) -> JSONObject:
    """An OpenAI error body."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def missing_key() -> APIErrorAnswer:
    """401 for a request without a Bearer key."""
    message = (
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
        f"auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from {KEYS_PAGE}."
    )
    return APIErrorAnswer(401, message)


def wrong_key(key: str) -> APIErrorAnswer:
    """401 for a wrong key, which the API names masked as it does (a few characters each end)."""
    masked = f"{key[:3]}{'*' * max(len(key) - 7, 0)}{key[-4:]}" if len(key) > 10 else "*" * len(key)
    message = f"Incorrect API key provided: {masked}. You can find your API key at {KEYS_PAGE}."
    return APIErrorAnswer(401, message, code="invalid_api_key")


def invalid(param: str | None, message: str, code: str) -> APIErrorAnswer:
    """400 `invalid_request_error` for a parameter."""
    return APIErrorAnswer(400, message, param=param, code=code)


def unknown_parameter(name: str) -> APIErrorAnswer:
    return invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")


def missing_parameter(name: str) -> APIErrorAnswer:
    return invalid(name, f"Missing required parameter: '{name}'.", "missing_required_parameter")


def invalid_value(name: str, value: object, allowed: tuple[str, ...]) -> APIErrorAnswer:
    """400 for a value outside an enumeration, worded as the API words it."""
    listed = ", ".join(f"'{choice}'" for choice in allowed[:-1]) + f", and '{allowed[-1]}'"
    return invalid(name, f"Invalid value: '{value}'. Supported values are: {listed}.", "invalid_value")


def invalid_type(name: str, expected: str, got: object) -> APIErrorAnswer:
    got_name = {str: "a string", bool: "a boolean", int: "an integer", float: "a decimal", list: "an array"}.get(
        type(got), "an object" if isinstance(got, dict) else "null"
    )
    return invalid(name, f"Invalid type for '{name}': expected {expected}, but got {got_name} instead.", "invalid_type")

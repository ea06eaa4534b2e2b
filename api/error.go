package api

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Exception names of bbdata-v2.md §0.3 and API.md §4. Clients branch on them, so they are part
// of the contract.
const (
	ExcItemNotFound         = "ItemNotFoundException"
	ExcUnauthorized         = "UnauthorizedException"
	ExcBadApikey            = "BadApikeyException"
	ExcForbidden            = "ForbiddenException"
	ExcWrongParams          = "WrongParamsException"
	ExcNotReadable          = "HttpMessageNotReadableException"
	ExcMissingParam         = "MissingServletRequestParameterException"
	ExcTypeMismatch         = "MethodArgumentTypeMismatchException"
	ExcDuplicateField       = "DuplicateFieldException"
	ExcForeignKey           = "ForeignKeyException"
	ExcMediaTypeUnsupported = "HttpMediaTypeNotSupportedException"
	ExcNotAcceptable        = "HttpMediaTypeNotAcceptableException"
	ExcNotFound             = "Not Found"
	ExcMethodNotSupported   = "HttpRequestMethodNotSupportedException"
	ExcPayloadTooLarge      = "PayloadTooLargeException"
	ExcTooManyRequests      = "TooManyRequestsException"
	ExcServiceUnavailable   = "ServiceUnavailableException"
	ExcHeaderTooLarge       = "RequestHeaderFieldsTooLargeException"
	ExcBadRequest           = "BadRequestException"
	ExcInternal             = "Internal Server Error"
)

// Error is an HTTP error answer: a status, an exception name and details, which is either a
// string or a map of field path → message (bean validation, bbdata-v2.md §0.3).
//
// Handlers return or pass an *Error to WriteError; they never write error bodies themselves.
type Error struct {
	Status    int
	Exception string
	Details   any // string or map[string]string
	// RetryAfter, when > 0, is sent as the Retry-After header (seconds).
	RetryAfter int
	// Cause is logged (never sent) for 5xx answers.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("api: %d %s: %v", e.Status, e.Exception, e.Details)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error with a formatted string as details.
func Errorf(status int, exception, format string, args ...any) *Error {
	return &Error{Status: status, Exception: exception, Details: fmt.Sprintf(format, args...)}
}

// NotFound is the 404 of a resource that is missing or hidden from the caller.
func NotFound(item string) *Error {
	return Errorf(fasthttp.StatusNotFound, ExcItemNotFound,
		"The %s was not found or can't be accessed with this apikey.", item)
}

// WrongParams is a 400 WrongParamsException with a message.
func WrongParams(format string, args ...any) *Error {
	return Errorf(fasthttp.StatusBadRequest, ExcWrongParams, format, args...)
}

// Forbidden is a 403 ForbiddenException with a message.
func Forbidden(format string, args ...any) *Error {
	return Errorf(fasthttp.StatusForbidden, ExcForbidden, format, args...)
}

// Validation is a 400 WrongParamsException whose details map each field path to its message.
func Validation(fields map[string]string) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Exception: ExcWrongParams, Details: fields}
}

// WriteError writes err as the JSON error body `{"exception", "details"}`. An error that is not
// an *Error is an internal error: the client gets a 500 with the request id, the cause is
// logged by the server (see Server), never sent.
func WriteError(ctx *fasthttp.RequestCtx, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: fasthttp.StatusInternalServerError, Exception: ExcInternal, Cause: err}
	}
	if e.Status >= 500 && e.Exception == ExcInternal {
		e = &Error{Status: e.Status, Exception: ExcInternal,
			Details: "internal error, request id " + requestID(ctx), Cause: e.Cause}
		if e.Cause == nil {
			e.Cause = err
		}
		ctx.SetUserValue(ctxKeyInternalErr, e.Cause)
	}
	ctx.Response.ResetBody()
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json")
	if e.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	b := ctx.Response.Body()[:0]
	b = append(b, `{"exception":`...)
	b = AppendJSONString(b, e.Exception)
	b = append(b, `,"details":`...)
	switch d := e.Details.(type) {
	case nil:
		b = append(b, `""`...)
	case string:
		b = AppendJSONString(b, d)
	case map[string]string:
		b = appendStringMap(b, d)
	default:
		b = AppendJSONString(b, fmt.Sprint(d))
	}
	b = append(b, '}')
	ctx.Response.SetBodyRaw(b)
}

package api

import (
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// IDParam reads a numeric path parameter; a non-integer is 400
// MethodArgumentTypeMismatchException (`/objects/abc`).
func IDParam(ctx *fasthttp.RequestCtx, name string) (uint32, error) {
	s, _ := ctx.UserValue(name).(string)
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		if _, ierr := strconv.ParseInt(s, 10, 64); ierr == nil {
			return 0, nil // negative or huge: a valid integer naming nothing (0 is never an id)
		}
		return 0, Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch,
			"Failed to convert value of type 'java.lang.String' to required type 'long'; nested exception is java.lang.NumberFormatException: For input string: \"%s\"", s)
	}
	return uint32(n), nil
}

// BoolParam reads an optional boolean query parameter (Spring's conversion: true/false, on/off,
// yes/no, 1/0, case-insensitive); anything else is 400 MethodArgumentTypeMismatchException.
func BoolParam(ctx *fasthttp.RequestCtx, name string, def bool) (bool, error) {
	args := ctx.QueryArgs()
	if !args.Has(name) {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(args.Peek(name)))) {
	case "true", "on", "yes", "1":
		return true, nil
	case "false", "off", "no", "0":
		return false, nil
	case "":
		return def, nil
	}
	return false, Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch,
		"Failed to convert value of type 'java.lang.String' to required type 'boolean'; Invalid boolean value [%s]", args.Peek(name))
}

// uintQuery reads a required-format integer query parameter; a non-integer is 400
// MethodArgumentTypeMismatchException.
func uintQuery(ctx *fasthttp.RequestCtx, name string) (uint32, error) {
	s := string(ctx.QueryArgs().Peek(name))
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		if _, ierr := strconv.ParseInt(strings.TrimSpace(s), 10, 64); ierr == nil {
			return 0, nil
		}
		return 0, Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch,
			"Failed to convert value of type 'java.lang.String' to required type 'int'; For input string: \"%s\"", s)
	}
	return uint32(n), nil
}

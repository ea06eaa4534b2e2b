package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"
)

// DecodeJSON decodes the request body into dst (unknown fields ignored, as the original's
// Jackson setup does). A malformed body, a wrong JSON type or a bad date is a 400
// HttpMessageNotReadableException; an empty body is one too when required.
func DecodeJSON(ctx *fasthttp.RequestCtx, dst any, required bool) error {
	body := bytes.TrimSpace(ctx.Request.Body())
	if len(body) == 0 {
		if required {
			return Errorf(fasthttp.StatusBadRequest, ExcNotReadable, "Required request body is missing")
		}
		return nil
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return notReadable(err)
	}
	return nil
}

func notReadable(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var de *DateTimeError
	switch {
	case errors.As(err, &te):
		return Errorf(fasthttp.StatusBadRequest, ExcNotReadable,
			"JSON parse error: cannot deserialize value of type %s from %s at field %q", te.Type, te.Value, te.Field)
	case errors.As(err, &se):
		return Errorf(fasthttp.StatusBadRequest, ExcNotReadable, "JSON parse error: %v (offset %d)", se, se.Offset)
	case errors.As(err, &de):
		return Errorf(fasthttp.StatusBadRequest, ExcNotReadable, "JSON parse error: %v", de)
	}
	return Errorf(fasthttp.StatusBadRequest, ExcNotReadable, "JSON parse error: %v", err)
}

// JSONTime is a DateTime field of a JSON body: the lenient ISO grammar of bbdata-v2.md §0.2
// (ParseDateTime) on input, the fixed `yyyy-MM-ddTHH:mm:ss.SSSZ` form on output. It holds
// epoch milliseconds; Set reports whether the field was present and not null.
type JSONTime struct {
	MS  int64
	Set bool
}

// UnmarshalJSON parses a JSON string with ParseDateTime. A JSON number is turned into its text
// and fails ISO parsing, as in the original.
func (t *JSONTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = JSONTime{}
		return nil
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	ms, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*t = JSONTime{MS: ms, Set: true}
	return nil
}

// MarshalJSON writes the fixed output form, or null.
func (t JSONTime) MarshalJSON() ([]byte, error) {
	if !t.Set {
		return []byte("null"), nil
	}
	b := append([]byte{'"'}, AppendDateTime(nil, t.MS)...)
	return append(b, '"'), nil
}

// WriteJSON answers 200 with v encoded by encoding/json (management routes; the value paths
// stream their own bytes).
func WriteJSON(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(ctx, fmt.Errorf("api: cannot encode response: %w", err))
		return
	}
	WriteJSONBody(ctx, b)
}

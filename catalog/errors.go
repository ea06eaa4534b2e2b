package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors callers branch on. The HTTP layer maps them to statuses
// (ErrNotFound → 404, ErrDuplicate → 400 DuplicateFieldException, ErrUnchanged →
// 304, *ValidationError → 400 WrongParamsException). acl re-exports them.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
	ErrUnchanged = errors.New("unchanged")
	// ErrInvalid is matched by every *ValidationError (errors.Is(err, ErrInvalid)).
	ErrInvalid = errors.New("invalid")
	// ErrForeignKey: a field references a thing that does not exist (400
	// ForeignKeyException).
	ErrForeignKey = errors.New("a field references a non-existing resource")
)

// ValidationError lists bad fields of an input, one message per field path
// (bbdata-v2.md §0.3: "size must be between 1 and 60", …). Msg, when set, is a
// business-rule message without a field.
type ValidationError struct {
	Fields map[string]string
	Msg    string
}

func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 {
		return "catalog: " + e.Msg
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString("catalog: invalid input:")
	if e.Msg != "" {
		sb.WriteString(" " + e.Msg + ";")
	}
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s: %s;", k, e.Fields[k])
	}
	return strings.TrimSuffix(sb.String(), ";")
}

// Is makes errors.Is(err, ErrInvalid) true for every *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a *ValidationError with a business-rule message.
func Invalid(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// fieldErrs accumulates per-field messages.
type fieldErrs map[string]string

func (f fieldErrs) add(field, msg string) { f[field] = msg }

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: map[string]string(f)}
}

// checkLen validates a string length in runes (bbdata-v2.md limits are in characters).
func checkLen(f fieldErrs, field, s string, min, max int) {
	n := len([]rune(s))
	if n < min || n > max {
		if min == 0 {
			f.add(field, fmt.Sprintf("size must be between 0 and %d", max))
			return
		}
		f.add(field, fmt.Sprintf("size must be between %d and %d", min, max))
	}
}

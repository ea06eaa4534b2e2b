package acl

import (
	"errors"

	"github.com/tsgate/tsgate/catalog"
)

// Errors callers branch on. The not-found, duplicate, unchanged and invalid ones
// are catalog's, so errors.Is works whichever package returned them. The HTTP
// layer maps: ErrNotFound → 404 ItemNotFoundException, ErrForbidden → 403
// ForbiddenException, ErrBadApikey and ErrExpired → 403 BadApikeyException,
// ErrWrongCredentials → 403 "Wrong username or password.", ErrDuplicate → 400
// DuplicateFieldException, ErrInvalid (*ValidationError) → 400
// WrongParamsException, ErrForeignKey → 400 ForeignKeyException, ErrUnchanged → 304.
var (
	ErrNotFound   = catalog.ErrNotFound
	ErrDuplicate  = catalog.ErrDuplicate
	ErrUnchanged  = catalog.ErrUnchanged
	ErrInvalid    = catalog.ErrInvalid
	ErrForeignKey = catalog.ErrForeignKey

	ErrForbidden        = errors.New("forbidden")
	ErrBadApikey        = errors.New("bad apikey")
	ErrExpired          = errors.New("apikey expired")
	ErrWrongCredentials = errors.New("wrong username or password")
	ErrReadOnly         = errors.New("this apikey is read-only")
)

// ValidationError is catalog's: per-field messages for a 400.
type ValidationError = catalog.ValidationError

// ForbiddenError says why an action is forbidden; errors.Is(err, ErrForbidden).
type ForbiddenError struct{ Reason string }

func (e *ForbiddenError) Error() string        { return "acl: forbidden: " + e.Reason }
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

func forbidden(reason string) error { return &ForbiddenError{Reason: reason} }

func invalidField(field, msg string) error {
	return &ValidationError{Fields: map[string]string{field: msg}}
}

func catalogInvalid(format string, args ...any) error { return catalog.Invalid(format, args...) }

func errorsIsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

type catalogObject = catalog.Object

package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the value type an object's unit implies.
type Type uint8

const (
	TypeInvalid Type = iota
	TypeFloat
	TypeInt
	TypeBool
	TypeString
)

var typeNames = [...]string{TypeInvalid: "", TypeFloat: "float", TypeInt: "int", TypeBool: "bool", TypeString: "string"}

// Types lists the type names in the order of GET /types.
func Types() []string { return []string{"bool", "float", "int", "string"} }

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// ParseType returns the Type named s ("float", "int", "bool", "string").
func ParseType(s string) (Type, error) {
	for i, n := range typeNames {
		if n != "" && n == s {
			return Type(i), nil
		}
	}
	return TypeInvalid, Invalid("unknown type %q", s)
}

func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	*t = v
	return err
}

// Unit is a measurement unit; it fixes the value type of the objects that use it.
type Unit struct {
	Symbol string `json:"symbol"`
	Name   string `json:"name"`
	Type   Type   `json:"type"`
}

// DefaultUnits is the unit table created on an empty store (API.md §1): every unit
// of the original's seed with the same symbol, name and type, then common ones.
var DefaultUnits = []Unit{
	{" ", "none", TypeString},
	{"%", "percentage", TypeFloat},
	{"°C", "celsius", TypeFloat},
	{"char", "free text", TypeString},
	{"h", "hours", TypeInt},
	{"Here", "presence", TypeBool},
	{"Hz", "hertz", TypeFloat},
	{"kW", "kilowatt", TypeFloat},
	{"lx", "lux", TypeFloat},
	{"V", "volt", TypeFloat},
	{"W", "watts", TypeFloat},
	// common additions
	{"A", "ampere", TypeFloat},
	{"m/s", "meters per second", TypeFloat},
	{"ppm", "parts per million", TypeFloat},
	{"Pa", "pascal", TypeFloat},
	{"Wh", "watt-hour", TypeFloat},
	{"kWh", "kilowatt-hour", TypeFloat},
	{"l", "liter", TypeFloat},
	{"m3", "cubic meter", TypeFloat},
	{"s", "seconds", TypeFloat},
	{"on/off", "on/off", TypeBool},
	{"count", "count", TypeInt},
}

func validateUnit(u Unit) error {
	f := fieldErrs{}
	if u.Symbol == "" {
		f.add("symbol", "must not be empty")
	} else {
		checkLen(f, "symbol", u.Symbol, 1, 10)
	}
	if u.Name == "" {
		f.add("name", "must not be empty")
	} else {
		checkLen(f, "name", u.Name, 1, 20)
	}
	if err := f.err(); err != nil {
		return err
	}
	if u.Type == TypeInvalid || int(u.Type) >= len(typeNames) {
		return Invalid("unknown type %q", u.Type.String())
	}
	return nil
}

// Units returns the unit table sorted by symbol.
func (c *Catalog) Units() []Unit {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Unit, 0, len(c.mu.units))
	for _, u := range c.mu.units {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Symbol < out[j].Symbol })
	return out
}

// Unit returns the unit with that symbol, or ErrNotFound.
func (c *Catalog) Unit(symbol string) (Unit, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.mu.units[symbol]
	if !ok {
		return Unit{}, fmt.Errorf("catalog: unit %q: %w", symbol, ErrNotFound)
	}
	return u, nil
}

// CreateUnit adds a unit (POST /units; superusers only, checked by the caller).
// A symbol or name already used → ErrDuplicate.
func (c *Catalog) CreateUnit(u Unit) (Unit, error) {
	if err := validateUnit(u); err != nil {
		return Unit{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.units[u.Symbol]; ok {
		return Unit{}, fmt.Errorf("catalog: value '%s' already exists: %w", u.Symbol, ErrDuplicate)
	}
	for _, o := range c.mu.units {
		if strings.EqualFold(o.Name, u.Name) {
			return Unit{}, fmt.Errorf("catalog: value '%s' already exists: %w", u.Name, ErrDuplicate)
		}
	}
	if err := c.db.Set(unitKey(u.Symbol), encode(u), syncWrite); err != nil {
		return Unit{}, fmt.Errorf("catalog: cannot store unit %q: %w", u.Symbol, err)
	}
	c.mu.units[u.Symbol] = u
	return u, nil
}

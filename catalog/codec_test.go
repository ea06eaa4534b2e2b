package catalog

import (
	"reflect"
	"testing"
	"time"
)

func TestObjectCodecRoundTrip(t *testing.T) {
	d := "a description"
	for _, o := range []Object{
		{ID: 1, Tenant: 2, Owner: 3, Name: "n", Unit: "V", Type: TypeFloat, Created: time.Unix(0, 123).UTC(), Recorded: time.Unix(0, 456).UTC()},
		{ID: 4294967295, Tenant: 9, Owner: 7, Name: "ünïcode", Description: &d, Unit: "°C", Type: TypeString, Tags: []string{"a", "b"},
			Disabled: true, Public: true, PublicFields: []string{"name", "values"}, Deleted: true,
			Created: time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC), Recorded: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
	} {
		var got Object
		if err := decodeObject([]byte("k"), encodeObject(&o), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, o) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, o)
		}
		// version 1 (JSON) is still read
		var old Object
		if err := decodeObject([]byte("k"), encode(&o), &old); err != nil || !reflect.DeepEqual(old, o) {
			t.Errorf("JSON record: %+v %v", old, err)
		}
	}
	ivs := []Interval{{From: 5, To: 9}, {From: 12}}
	got, err := decodeIntervals([]byte("k"), encodeIntervals(ivs))
	if err != nil || !reflect.DeepEqual(got, ivs) {
		t.Fatalf("intervals %v %v", got, err)
	}
}

func FuzzDecodeObject(f *testing.F) {
	d := "x"
	f.Add(encodeObject(&Object{ID: 1, Name: "n", Unit: "V", Description: &d, Tags: []string{"t"}}))
	f.Add(encodeIntervals([]Interval{{1, 2}}))
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o Object
		if err := decodeObject([]byte("k"), b, &o); err == nil {
			var again Object
			if err := decodeObject([]byte("k"), encodeObject(&o), &again); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
		}
		_, _ = decodeIntervals([]byte("k"), b)
	})
}

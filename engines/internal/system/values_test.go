package system

import (
	"testing"
	"time"
)

// TestValues: the driver value shapes every engine's Read gives.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want int64
	}{{int64(7), 7}, {int32(7), 7}, {int16(7), 7}, {[]byte("7"), 7}, {"7", 7}, {nil, 0}} {
		if got, err := Int(tc.v); err != nil || got != tc.want {
			t.Errorf("Int(%#v) = %d, %v", tc.v, got, err)
		}
	}
	if _, err := Int(true); err == nil {
		t.Error("Int(true): no error")
	}
	for _, tc := range []struct {
		v    any
		want bool
	}{{true, true}, {false, false}, {int64(1), true}, {int64(0), false}, {int32(1), true},
		{[]byte("1"), true}, {"t", true}, {"false", false}, {nil, false}} {
		if got, err := Bool(tc.v); err != nil || got != tc.want {
			t.Errorf("Bool(%#v) = %v, %v", tc.v, got, err)
		}
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for _, v := range []any{at, at.In(time.FixedZone("x", 3600)), "2026-01-02T03:04:05.123456Z",
		[]byte("2026-01-02 03:04:05.123456"), "2026-01-02-03.04.05.123456"} {
		if got, err := Time(v); err != nil || !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("Time(%#v) = %v, %v", v, got, err)
		}
	}
	if _, err := Time("soon"); err == nil {
		t.Error(`Time("soon"): no error`)
	}
	if Text([]byte("x")) != "x" || Text(nil) != "" || Text(int64(3)) != "3" {
		t.Error("Text")
	}
}

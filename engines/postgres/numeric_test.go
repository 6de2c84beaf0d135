package postgres

import (
	"encoding/binary"
	"testing"
)

// numericBytes builds PostgreSQL's binary NUMERIC.
func numericBytes(weight int16, sign uint16, dscale int16, digits ...uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(weight))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

func TestNumericText(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{numericBytes(0, numericPos, 0), "0"},
		{numericBytes(0, numericPos, 3), "0.000"},
		{numericBytes(0, numericPos, 0, 1), "1"},
		{numericBytes(1, numericPos, 0, 1), "10000"},
		{numericBytes(0, numericNeg, 1, 1, 5000), "-1.5"},
		{numericBytes(-2, numericPos, 5, 1000), "0.00001"},
		{numericBytes(4, numericPos, 9, 1234, 5678, 9012, 3456, 7890, 1234, 5678, 9000), "12345678901234567890.123456789"},
		{numericBytes(0, numericPos, 2, 1, 1000), "1.10"},
		{numericBytes(0, numericNaN, 0), "NaN"},
		{numericBytes(0, numericPInf, 0), "Infinity"},
		{numericBytes(0, numericNInf, 0), "-Infinity"},
	} {
		got, err := numericText(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("numericText(% x) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{0, 1, 0, 0, 0, 0, 0},                 // short header
		numericBytes(0, numericPos, 0, 1)[:9], // a digit cut short
		numericBytes(0, 0x1234, 0, 1),         // unknown sign
		numericBytes(0, numericPos, 0, 10000), // digit out of range
	} {
		if got, err := numericText(bad); err == nil {
			t.Errorf("numericText(% x) = %q, want an error", bad, got)
		}
	}
}

func BenchmarkNumericText(b *testing.B) {
	v := numericBytes(4, numericPos, 9, 1234, 5678, 9012, 3456, 7890, 1234, 5678, 9000)
	for b.Loop() {
		numericText(v)
	}
}

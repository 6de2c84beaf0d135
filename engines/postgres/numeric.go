package postgres

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Sign words of the binary numeric format.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

var errNumeric = errors.New("malformed binary numeric")

// numericText formats a binary NUMERIC exactly as PostgreSQL's own text
// output does (numeric_out): every digit, and as many fraction digits as
// the value's display scale, so NUMERIC(38,9) 1.5 reads 1.500000000.
//
// The format is: ndigits, weight, sign, dscale (int16 each), then ndigits
// base-10000 digits, the first of weight `weight`.
func numericText(b []byte) (string, error) {
	if len(b) < 8 {
		return "", errNumeric
	}
	ndigits := int(int16(binary.BigEndian.Uint16(b)))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(int16(binary.BigEndian.Uint16(b[6:])))
	if ndigits < 0 || dscale < 0 || len(b) != 8+2*ndigits {
		return "", errNumeric
	}
	switch sign {
	case numericNaN:
		return "NaN", nil
	case numericPInf:
		return "Infinity", nil
	case numericNInf:
		return "-Infinity", nil
	case numericPos, numericNeg:
	default:
		return "", errNumeric
	}
	for d := range ndigits {
		if binary.BigEndian.Uint16(b[8+2*d:]) > 9999 {
			return "", errNumeric
		}
	}
	digit := func(d int) int {
		if d < 0 || d >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(b[8+2*d:]))
	}
	out := make([]byte, 0, 2+4*max(weight+1, 1)+dscale+4)
	if sign == numericNeg {
		out = append(out, '-')
	}
	d := 0
	if weight < 0 {
		d = weight + 1
		out = append(out, '0')
	} else {
		for ; d <= weight; d++ {
			if d == 0 {
				out = strconv.AppendInt(out, int64(digit(d)), 10)
			} else {
				out = appendGroup(out, digit(d))
			}
		}
	}
	if dscale > 0 {
		out = append(out, '.')
		end := len(out) + dscale
		for len(out) < end {
			out = appendGroup(out, digit(d))
			d++
		}
		out = out[:end]
	}
	return string(out), nil
}

// appendGroup appends one base-10000 digit as four decimal digits.
func appendGroup(b []byte, g int) []byte {
	return append(b, byte('0'+g/1000), byte('0'+g/100%10), byte('0'+g/10%10), byte('0'+g%10))
}

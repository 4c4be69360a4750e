package bench

import (
	"errors"
	"testing"
)

func TestDigestResponse(t *testing.T) {
	base := `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,58,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`
	rows, h, msg, err := DigestResponse([]byte(base))
	if err != nil || msg != "" || rows != 2 {
		t.Fatalf("rows %d msg %q err %v", rows, msg, err)
	}
	for _, tc := range []struct {
		name string
		body string
		same bool
	}{
		{"same", base, true},
		{"float spelling of an integer", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"rack":"4","hostname":"host_1"},"columns":["time","max","mean"],"values":[[1451606400000000000,58.0,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, true},
		{"exponent and last-digit noise", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,5.8e1,12.345678901236],[1451606460000000000,null,1.5000000000001]]}]}]}`, true},
		{"extra fields ignored", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,58,12.345678901234],[1451606460000000000,null,1.5]],"partial":false}]}]}`, true},
		{"different value", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,59,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, false},
		{"different time by 1ns", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000001,58,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, false},
		{"different column name", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean_1"],"values":[[1451606400000000000,58,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, false},
		{"different tag", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_2","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,58,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, false},
		{"null where a value was", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,null,12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, false},
		{"string instead of number", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,"58",12.345678901234],[1451606460000000000,null,1.5]]}]}]}`, false},
		{"row moved to another series", `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606400000000000,58,12.345678901234]]},{"name":"cpu","tags":{"hostname":"host_1","rack":"4"},"columns":["time","max","mean"],"values":[[1451606460000000000,null,1.5]]}]}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got, _, err := DigestResponse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if (got == h) != tc.same {
				t.Fatalf("hash equal = %v, want %v", got == h, tc.same)
			}
		})
	}
}

func TestDigestResponseErrors(t *testing.T) {
	for _, tc := range []struct {
		body, msg string
		rows      int
	}{
		{`{"results":[{"statement_id":0,"error":"database not found: x"}]}`, "database not found: x", 0},
		{`{"error":"error parsing query: found EOF"}`, "error parsing query: found EOF", 0},
		{`{"results":[{"statement_id":0,"series":[{"name":"a","columns":["time","v"],"values":[[1,2]]}]},{"statement_id":1,"error":"boom"}]}`, "boom", 1},
		{`{"results":[{"statement_id":0}]}`, "", 0},
	} {
		rows, _, msg, err := DigestResponse([]byte(tc.body))
		if err != nil || msg != tc.msg || rows != tc.rows {
			t.Fatalf("%s: rows %d msg %q err %v; want rows %d msg %q", tc.body, rows, msg, err, tc.rows, tc.msg)
		}
	}
	for _, body := range []string{``, `<html>`, `{"results":`, `{"results":[{"series":[{"values":5}]}]}`, `[1,2]`} {
		if _, _, _, err := DigestResponse([]byte(body)); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("%q: err %v, want ErrBadResponse", body, err)
		}
	}
}

// FuzzDigestResponse: any body gives a digest or ErrBadResponse, never a
// panic, and the digest is a pure function of the body.
func FuzzDigestResponse(f *testing.F) {
	f.Add([]byte(`{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_1"},"columns":["time","max"],"values":[[1,58],[2,null]]}]}]}`))
	f.Add([]byte(`{"results":[{"statement_id":0,"error":"x"}],"error":"y"}`))
	f.Add([]byte(`{"results":[{"series":[{"values":[[1e400,-0,"s",true,[1],{"a":1}]]}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, h, msg, err := DigestResponse(body)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v is not ErrBadResponse", err)
			}
			return
		}
		rows2, h2, msg2, err2 := DigestResponse(body)
		if rows != rows2 || h != h2 || msg != msg2 || err2 != nil {
			t.Fatal("digest is not deterministic")
		}
	})
}

package lineprotocol_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func mustFloat(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// cpuBatch returns n lines shaped like TSBS's devops "cpu" measurement:
// ten tags in TSBS's (unsorted) order and ten float fields.
func cpuBatch(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	regions := []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
	fields := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	var b strings.Builder
	ts := int64(1451606400000000000)
	for i := range n {
		region := regions[i%len(regions)]
		fmt.Fprintf(&b, "cpu,hostname=host_%d,region=%s,datacenter=%sa,rack=%d,os=Ubuntu16.04LTS,arch=x64,team=SF,service=%d,service_version=%d,service_environment=production ",
			i%100, region, region, r.IntN(100), r.IntN(20), r.IntN(2))
		for j, f := range fields {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%s", f, strconv.FormatFloat(float64(r.IntN(10000))/100, 'f', -1, 64))
		}
		fmt.Fprintf(&b, " %d\n", ts+int64(i/100)*10_000_000_000)
	}
	return []byte(b.String())
}

// shortBatch returns n short lines: one tag, one field, a timestamp.
func shortBatch(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "m,t=%d v=%di %d\n", i%10, i, 1600000000000000000+int64(i))
	}
	return []byte(b.String())
}

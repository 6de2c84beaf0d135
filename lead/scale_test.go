package lead

import (
	"testing"
	"time"
)

func TestScaler(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		at   int
		load Load
		want int
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"idle stays at min", []step{{0, Load{Workers: 1, Min: 1, Max: 4}, 1}, {60000, Load{Workers: 1, Min: 1, Max: 4}, 1}}},
		{"raised to min", []step{{0, Load{Workers: 0, Min: 2, Max: 4}, 2}}},
		{"busy with backlog scales up one at a time", []step{
			{0, Load{Pending: 10, AckPending: 1, Workers: 1, Min: 1, Max: 4}, 2},
			{100, Load{Pending: 10, AckPending: 2, Workers: 2, Min: 1, Max: 4}, 2}, // too soon
			{250, Load{Pending: 10, AckPending: 2, Workers: 2, Min: 1, Max: 4}, 3},
			{500, Load{Pending: 10, AckPending: 3, Workers: 3, Min: 1, Max: 4}, 4},
			{750, Load{Pending: 10, AckPending: 4, Workers: 4, Min: 1, Max: 4}, 4}, // at max
		}},
		{"idle worker means no scale up", []step{{0, Load{Pending: 5, AckPending: 1, Workers: 2, Min: 1, Max: 4}, 2}}},
		{"in flight but nothing waiting means no scale up", []step{{0, Load{Pending: 0, AckPending: 2, Workers: 2, Min: 1, Max: 4}, 2}}},
		{"down only after the cool-down", []step{
			{0, Load{Workers: 4, Min: 1, Max: 4}, 4},
			{29000, Load{Workers: 4, Min: 1, Max: 4}, 4},
			{29500, Load{AckPending: 1, Workers: 4, Min: 1, Max: 4}, 4}, // lag resets the clock
			{30500, Load{Workers: 4, Min: 1, Max: 4}, 4},
			{60499, Load{Workers: 4, Min: 1, Max: 4}, 4},
			{60500, Load{Workers: 4, Min: 1, Max: 4}, 1},
		}},
		{"max 0 never scales", []step{{0, Load{Pending: 3, AckPending: 0, Workers: 0, Min: 0, Max: 0}, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Scaler{UpEvery: 250 * time.Millisecond, DownAfter: 30 * time.Second}
			for i, st := range c.steps {
				if got, why := s.Decide(at(st.at), st.load); got != st.want {
					t.Fatalf("step %d: %d workers (%s), want %d", i, got, why, st.want)
				}
			}
		})
	}
}

func TestShare(t *testing.T) {
	cases := []struct {
		n, k, i, want int
	}{
		{1, 1, 0, 1}, {1, 2, 0, 1}, {1, 2, 1, 0}, {4, 2, 0, 2}, {4, 2, 1, 2},
		{5, 2, 0, 3}, {5, 2, 1, 2}, {3, 3, 2, 1}, {2, 3, 2, 0}, {0, 2, 0, 0}, {3, 0, 0, 3},
	}
	for _, c := range cases {
		if got := share(c.n, c.k, c.i); got != c.want {
			t.Errorf("share(%d, %d, %d) = %d, want %d", c.n, c.k, c.i, got, c.want)
		}
	}
}

package loadgen

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatCPUIsUserPlusSystemTimeWhateverTheCommandName(t *testing.T) {
	// 14th and 15th fields: utime 250 and stime 50 ticks = 3 s.
	const rest = " S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 200 300"
	for _, comm := range []string{"handoffd", "redis-server *:6379", "a) (b", ")"} {
		got, err := ParseStatCPU("4242 (" + comm + ")" + rest)
		require.NoError(t, err, comm)
		require.Equal(t, 3*time.Second, got, comm)
	}
}

func TestMalformedStatIsAnError(t *testing.T) {
	for _, s := range []string{"", "4242 handoffd S 1", "4242 (handoffd) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 x 50"} {
		_, err := ParseStatCPU(s)
		require.Error(t, err, "%q", s)
	}
}

func TestStatusRSSIsInBytes(t *testing.T) {
	status := "Name:\thandoffd\nVmPeak:\t 999999 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t9\n"
	rss, err := ParseStatusRSS(status)
	require.NoError(t, err)
	require.EqualValues(t, 10<<20, rss)

	_, err = ParseStatusRSS("Name:\tx\nVmHWM:\t 1 kB\n")
	require.Error(t, err, "no VmRSS")
	_, err = ParseStatusRSS("VmRSS:\t 1 MB\n")
	require.Error(t, err, "unknown unit")
}

// TestSamplingThisProcessSeesItsOwnCPUTime reads the real /proc: after a
// busy loop, the process's CPU time has grown and it has a resident set.
func TestSamplingThisProcessSeesItsOwnCPUTime(t *testing.T) {
	a, err := SampleProc(os.Getpid())
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		b, err := SampleProc(os.Getpid())
		require.NoError(t, err)
		if b.CPU > a.CPU {
			require.Positive(t, b.RSS)
			require.True(t, b.At.After(a.At), "samples out of order")
			return
		}
		for i := 0; i < 1e6; i++ { // spin, so CPU time accrues
			_ = i * i
		}
	}
	t.Fatal("CPU time never grew")
}

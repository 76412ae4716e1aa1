// loadgen posts sales to POST /api/v1/sales at a steady rate and prints every
// request's latency as JSON, for bench/checkout.py to summarise.
//
// It is open-loop: request i starts at i/rate seconds whatever the answers do, so a
// slow server shows up as latency, not as a lower rate. The first --warmup seconds run
// at the same rate but are not counted (new connections, cold caches). It is written in
// Go so that the generator itself needs little CPU on the machine it measures.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type result struct {
	LatenciesMs []float64 `json:"latencies_ms"` // of the measured requests, in order
	Sent        int       `json:"sent"`         // warm-up included
	Errors      int       `json:"errors"`       // warm-up included
	FirstError  string    `json:"first_error,omitempty"`
	ElapsedS    float64   `json:"elapsed_s"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8000", "the app")
	rate := flag.Float64("rate", 200, "sales per second")
	warmup := flag.Float64("warmup", 5, "seconds at the rate before measuring")
	seconds := flag.Float64("seconds", 30, "how long to measure")
	skus := flag.String("skus", "", "comma-separated SKUs to sell")
	seed := flag.Int64("seed", 7, "random seed for the baskets")
	flag.Parse()
	key := os.Getenv("LOADGEN_API_KEY") // from the environment, not the command line
	catalog := strings.Split(*skus, ",")
	if key == "" || *skus == "" {
		fmt.Fprintln(os.Stderr, "loadgen: set LOADGEN_API_KEY and --skus")
		os.Exit(2)
	}

	// Baskets first, so building them costs nothing while the clock runs.
	rng := rand.New(rand.NewSource(*seed))
	skipped := int(*rate * *warmup)
	total := skipped + int(*rate**seconds)
	bodies := make([][]byte, total)
	for i := range bodies {
		picked := rng.Perm(len(catalog))[:1+rng.Intn(min(3, len(catalog)))]
		lines := make([]line, len(picked))
		for j, k := range picked {
			lines[j] = line{SKU: catalog[k], Quantity: 1 + rng.Intn(2)}
		}
		bodies[i], _ = json.Marshal(map[string]any{"lines": lines})
	}

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000},
	}
	latencies := make([]float64, total)
	out := result{Sent: total}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sent := time.Now()
			err := post(client, *url+"/api/v1/sales", key, bodies[i])
			latencies[i] = float64(time.Since(sent).Microseconds()) / 1000
			if err != nil {
				mu.Lock()
				if out.Errors == 0 {
					out.FirstError = err.Error()
				}
				out.Errors++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	measuredFrom := start.Add(time.Duration(float64(skipped) / *rate * float64(time.Second)))
	out.ElapsedS = time.Since(measuredFrom).Seconds()
	out.LatenciesMs = latencies[skipped:]
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}

func post(client *http.Client, url, key string, body []byte) error {
	request, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	request.Header.Set("Authorization", "Bearer "+key)
	request.Header.Set("Content-Type", "application/json")
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	answer, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusCreated {
		return fmt.Errorf("HTTP %d: %.200s", response.StatusCode, answer)
	}
	return nil
}

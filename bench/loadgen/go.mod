module pos-bench/loadgen

go 1.21

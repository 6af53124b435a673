# Shortcuts for contributors; the README's commands never need them.
.PHONY: run test lint bench cluster cluster-stop cluster-bench cluster-roll

run:   ## the whole stack in one process
	go run ./cmd/breachflow dev

test:  ## what CI runs
	bash .ci/run

lint:  ## formatting, vet and staticcheck
	gofmt -l . && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench: ## the notice fan-out on this machine (README: "How it is built"; docs/api.md: Sending the notices)
	go run ./cmd/breachflow bench notify --subjects 100000
	go run ./cmd/breachflow bench alerts   # alert intake (docs/alerts.md: Throughput)
	go run ./cmd/breachflow bench detect   # the CRM export detector
	go run ./cmd/breachflow bench launch   # launch latency at 50/s (docs/api.md: List and show)
	go run ./cmd/breachflow bench list     # list routes with 10,000 open incidents

cluster: ## the production topology on loopback: Temporal on PostgreSQL, server, workers (docs/deploy.md)
	deploy/cluster.sh start

cluster-stop:
	deploy/cluster.sh stop

cluster-bench: ## notices/s on the running cluster with one notices worker, then two (docs/deploy.md)
	deploy/cluster.sh bench

cluster-roll: ## the running cluster onto the tree's build: replay the open workflows, then workers, then the API (docs/deploy.md)
	deploy/cluster.sh roll

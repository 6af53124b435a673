# Shortcuts for contributors; the README's commands never need them.
.PHONY: run test lint bench

run:   ## the whole stack in one process
	go run ./cmd/breachflow dev

test:  ## what CI runs
	bash .ci/run

lint:  ## formatting, vet and staticcheck
	gofmt -l . && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@latest ./...

bench: ## benchmark commands print figures; none are timed tests
	@echo "see README: Figures"

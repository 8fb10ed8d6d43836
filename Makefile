# Geo.Events — the commands in README.md. Everything runs on 127.0.0.1; no Docker.
CONFIGURATION ?= Release
RESULTS := artifacts/test-results

.PHONY: help up down build test test-ha unit integration soak demo bench publish format format-check clean

help:
	@echo "make demo          primary + two secondaries, real hooks, mirrors converge, table of refs"
	@echo "make test          start RabbitMQ and PostgreSQL, build, run every test but the long HA ones; ends with 'N passed, N failed'"
	@echo "make test-ha       the long high-availability tests (TestCategory HA: RabbitMQ cluster they start themselves, several instances, kills); same last line"
	@echo "make soak          the crash and fuzz tests, long: 25 SIGKILL rounds, 10 minutes of fuzzing"
	@echo "make bench         benchmarks against their floors, report in artifacts/bench (QUICK=1: a 2-minute smoke run)"
	@echo "make publish       release folders and tarballs of geo-primary, geo-secondary, geo-admin in artifacts/publish, with systemd units"
	@echo "make up | down     start or stop the local RabbitMQ and PostgreSQL (data in .local/)"
	@echo "make build         build the solution ($(CONFIGURATION))"
	@echo "make format        apply .editorconfig;  make format-check verifies it"

up:
	@infra/local/up

down:
	@infra/local/down

build:
	dotnet build Geo.Events.sln -c $(CONFIGURATION) -nologo -v quiet

test: up build
	@rm -rf $(RESULTS)
	@status=0; \
	dotnet test Geo.Events.sln -c $(CONFIGURATION) --no-build -nologo --filter "TestCategory!=HA" \
	  --logger "trx" --logger "console;verbosity=normal" --results-directory $(RESULTS) || status=$$?; \
	infra/test/summary $(RESULTS); exit $$status

test-ha: up build
	@rm -rf $(RESULTS)
	@status=0; \
	dotnet test tests/Geo.Events.IntegrationTests -c $(CONFIGURATION) --no-build -nologo --filter TestCategory=HA \
	  --logger "trx" --logger "console;verbosity=normal" --results-directory $(RESULTS) || status=$$?; \
	infra/test/summary $(RESULTS); exit $$status

unit: build
	dotnet test tests/Geo.Events.Tests -c $(CONFIGURATION) --no-build -nologo

integration: up build
	dotnet test tests/Geo.Events.IntegrationTests -c $(CONFIGURATION) --no-build -nologo

soak: up build
	GEO_CRASH_ROUNDS=$(or $(ROUNDS),25) GEO_FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) dotnet test Geo.Events.sln -c $(CONFIGURATION) --no-build -nologo \
	  --filter "FullyQualifiedName~CrashTests|FullyQualifiedName~Fuzz" --logger "console;verbosity=detailed"

demo:
	@CONFIGURATION=$(CONFIGURATION) infra/demo/run

bench: up build
	dotnet tests/Geo.Events.Benchmarks/bin/$(CONFIGURATION)/net10.0/geo-bench.dll $(if $(QUICK),--quick) --out artifacts/bench

publish:
	@CONFIGURATION=$(CONFIGURATION) infra/deploy/publish

format:
	dotnet format Geo.Events.sln

format-check:
	dotnet format Geo.Events.sln --verify-no-changes

clean:
	rm -rf artifacts */*/bin */*/obj

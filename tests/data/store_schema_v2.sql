-- Schema 2 of the run store, as an earlier Botloom created it: tests open a store made from it and upgrade it.
CREATE TABLE runs (
	id VARCHAR NOT NULL, 
	bot_name VARCHAR NOT NULL, 
	bot_path VARCHAR, 
	bot_hash VARCHAR NOT NULL, 
	bot_snapshot VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	"trigger" VARCHAR NOT NULL, 
	inputs VARCHAR, 
	start_node VARCHAR, 
	outputs VARCHAR, 
	error VARCHAR, 
	attention VARCHAR, 
	wake VARCHAR, 
	wake_at FLOAT, 
	signal VARCHAR, 
	started_at FLOAT NOT NULL, 
	ended_at FLOAT, 
	steps INTEGER NOT NULL, 
	pid INTEGER, 
	host VARCHAR, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_runs_bot_name ON runs (bot_name);
CREATE INDEX ix_runs_state ON runs (state);
CREATE INDEX ix_runs_wake_at ON runs (wake_at);
CREATE TABLE artifacts (
	id INTEGER NOT NULL, 
	run_id VARCHAR NOT NULL, 
	seq INTEGER NOT NULL, 
	node_id VARCHAR NOT NULL, 
	name VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	path VARCHAR NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE INDEX ix_artifacts_run_id ON artifacts (run_id);
CREATE TABLE node_runs (
	run_id VARCHAR NOT NULL, 
	seq INTEGER NOT NULL, 
	attempt INTEGER NOT NULL, 
	node_id VARCHAR NOT NULL, 
	node_type VARCHAR NOT NULL, 
	flow VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	port VARCHAR, 
	params VARCHAR, 
	outputs VARCHAR, 
	writes VARCHAR, 
	error VARCHAR, 
	wake VARCHAR, 
	started_at FLOAT NOT NULL, 
	duration FLOAT, 
	PRIMARY KEY (run_id, seq, attempt), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE TABLE state_changes (
	id INTEGER NOT NULL, 
	run_id VARCHAR NOT NULL, 
	at FLOAT NOT NULL, 
	state VARCHAR NOT NULL, 
	detail VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE INDEX ix_state_changes_run_id ON state_changes (run_id);

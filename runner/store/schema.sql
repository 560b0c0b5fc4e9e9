-- Generated from runner/store/models.py by `python -m botloom.runner.store.models`; do not edit.
CREATE TABLE queue_items (
	id INTEGER NOT NULL, 
	queue VARCHAR NOT NULL, 
	reference VARCHAR NOT NULL, 
	priority INTEGER NOT NULL, 
	deadline FLOAT, 
	status VARCHAR NOT NULL, 
	retries INTEGER NOT NULL, 
	max_retries INTEGER NOT NULL, 
	payload VARCHAR, 
	output VARCHAR, 
	error VARCHAR, 
	performer VARCHAR, 
	created_at FLOAT NOT NULL, 
	started_at FLOAT, 
	ended_at FLOAT, 
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_queue_items_queue_reference ON queue_items (queue, reference);
CREATE INDEX ix_queue_items_queue_status ON queue_items (queue, status, priority);
CREATE TABLE review_examples (
	id INTEGER NOT NULL, 
	task_id VARCHAR NOT NULL, 
	bot VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	field VARCHAR NOT NULL, 
	text VARCHAR, 
	original VARCHAR, 
	corrected VARCHAR, 
	changed BOOLEAN NOT NULL, 
	confidence FLOAT, 
	outcome VARCHAR, 
	at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_review_examples_source_field ON review_examples (source, field);
CREATE INDEX ix_review_examples_task_id ON review_examples (task_id);
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
	pruned_at FLOAT, 
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
CREATE TABLE blobs (
	run_id VARCHAR NOT NULL, 
	id INTEGER NOT NULL, 
	base INTEGER, 
	digest VARCHAR, 
	data VARCHAR NOT NULL, 
	size INTEGER NOT NULL, 
	PRIMARY KEY (run_id, id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
)
 WITHOUT ROWID;
CREATE TABLE node_runs (
	entry INTEGER NOT NULL, 
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
	PRIMARY KEY (entry), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE INDEX ix_node_runs_run_id_seq ON node_runs (run_id, seq);
CREATE TABLE queue_events (
	id INTEGER NOT NULL, 
	item_id INTEGER NOT NULL, 
	at FLOAT NOT NULL, 
	status VARCHAR NOT NULL, 
	performer VARCHAR, 
	detail VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(item_id) REFERENCES queue_items (id)
);
CREATE INDEX ix_queue_events_item_id ON queue_events (item_id);
CREATE TABLE run_bots (
	run_id VARCHAR NOT NULL, 
	path VARCHAR NOT NULL, 
	text VARCHAR NOT NULL, 
	hash VARCHAR NOT NULL, 
	PRIMARY KEY (run_id, path), 
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
CREATE TABLE tasks (
	id VARCHAR NOT NULL, 
	run_id VARCHAR NOT NULL, 
	seq INTEGER NOT NULL, 
	node VARCHAR NOT NULL, 
	bot VARCHAR NOT NULL, 
	queue VARCHAR, 
	assignee VARCHAR, 
	state VARCHAR NOT NULL, 
	form VARCHAR NOT NULL, 
	outcome VARCHAR, 
	"values" VARCHAR, 
	"by" VARCHAR, 
	created_at FLOAT NOT NULL, 
	deadline FLOAT, 
	completed_at FLOAT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE UNIQUE INDEX ix_tasks_run_id_seq ON tasks (run_id, seq);
CREATE INDEX ix_tasks_state_queue ON tasks (state, queue);
CREATE TABLE waits (
	id INTEGER NOT NULL, 
	run_id VARCHAR NOT NULL, 
	seq INTEGER NOT NULL, 
	node_id VARCHAR NOT NULL, 
	reason VARCHAR, 
	signal VARCHAR, 
	wake_at FLOAT, 
	started_at FLOAT NOT NULL, 
	answered_at FLOAT, 
	answered_by VARCHAR, 
	answer VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE INDEX ix_waits_run_id ON waits (run_id);

//! In-process cost of one config: parse -> validate -> render -> typed check, per fixture, and
//! the stages on their own. `cargo bench --bench render`; bench/run.sh times the whole process.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pgstate::config::vars::ProcessEnv;
use pgstate::error::SourceId;

const FIXTURES: &[(&str, &str)] = &[
    ("calculator", include_str!("../fixtures/calculator.yaml")),
    (
        "tfvisualizer",
        include_str!("../fixtures/tfvisualizer.yaml"),
    ),
    ("healthcare", include_str!("../fixtures/healthcare.yaml")),
];

fn whole_path(c: &mut Criterion) {
    // The templates compile once per process; do it before measuring.
    pgstate::render::environment().expect("templates compile");
    let mut group = c.benchmark_group("load+render+check");
    for (name, text) in FIXTURES {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let loaded = pgstate::config::load(
                    SourceId(0),
                    black_box(text),
                    None,
                    &ProcessEnv::default(),
                )
                .expect("loads");
                pgstate::pipeline::render(&loaded.config, &ProcessEnv::default()).expect("renders")
            });
        });
    }
    group.finish();
}

fn stages(c: &mut Criterion) {
    let (name, text) = FIXTURES[1];
    let loaded =
        pgstate::config::load(SourceId(0), text, None, &ProcessEnv::default()).expect("loads");
    let docs = pgstate::pipeline::render(&loaded.config, &ProcessEnv::default()).expect("renders");
    let mut group = c.benchmark_group(format!("stages/{name}"));
    group.bench_function("parse (YAML -> node tree)", |b| {
        b.iter(|| pgstate::config::node::parse(SourceId(0), black_box(text)).expect("parses"));
    });
    group.bench_function("load (parse, type, validate)", |b| {
        b.iter(|| {
            pgstate::config::load(SourceId(0), black_box(text), None, &ProcessEnv::default())
        });
    });
    group.bench_function("render (templates, read back, check)", |b| {
        b.iter(|| pgstate::pipeline::render(black_box(&loaded.config), &ProcessEnv::default()));
    });
    group.bench_function("read back (fast reader)", |b| {
        b.iter(|| {
            for doc in &docs {
                let arena = bumpalo::Bump::new();
                black_box(pgstate::readback::fast(&doc.yaml, &arena).is_some());
            }
        });
    });
    group.bench_function("read back (serde-saphyr)", |b| {
        b.iter(|| {
            for doc in &docs {
                let v: serde_json::Value = serde_saphyr::from_str(&doc.yaml).expect("parses");
                black_box(v);
            }
        });
    });
    group.bench_function("typed check", |b| {
        let arena = bumpalo::Bump::new();
        let trees: Vec<pgstate::readback::tree::Node> = docs
            .iter()
            .map(|d| pgstate::readback::tree::Node::from_value(&arena, &d.value))
            .collect();
        b.iter(|| {
            for tree in &trees {
                pgstate::manifest::verify(tree).expect("checks");
            }
        });
    });
    group.finish();
}

criterion_group!(benches, whole_path, stages);
criterion_main!(benches);

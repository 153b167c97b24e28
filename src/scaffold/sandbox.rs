//! Tera, closed in. A user's template is a folder anyone may have copied
//! in, so it renders with less than Tera offers: no `get_env` (a template
//! could copy secrets from the environment into files), a bounded `range`
//! (`range(end=2e8)` allocates gigabytes), and no recursion at all, since
//! Tera has no depth limit and a template that includes itself, or a macro
//! that calls itself, overflows the stack and aborts: the cycle is found in
//! the parsed templates and refused before anything renders.
//!
//! Two filters put values into Python safely: `python` gives a literal
//! (`DEVICE = {{ device | python }}` → `DEVICE = "auto"`), `python_text`
//! the inside of one (for a docstring).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tera::ast::{Expr, ExprVal, Node};
use tera::Value;

/// The most items `range` makes.
pub const MAX_RANGE: usize = 10_000;

/// A Tera with ttm's functions and filters over the built-in ones.
pub fn tera() -> tera::Tera {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::new());
    tera.register_function("get_env", |_: &HashMap<String, Value>| {
        Err(tera::Error::msg(
            "get_env is turned off in ttm templates: pass the value with -d key=value",
        ))
    });
    tera.register_function("range", bounded_range);
    tera.register_filter("python", python_literal);
    tera.register_filter("python_text", python_text);
    tera
}

fn bounded_range(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let number = |key: &str, default: Option<usize>| -> tera::Result<usize> {
        match args.get(key) {
            None => default.ok_or_else(|| {
                tera::Error::msg(format!(
                    "Function `range` was called without a `{key}` argument"
                ))
            }),
            Some(v) => v.as_u64().map(|n| n as usize).ok_or_else(|| {
                tera::Error::msg(format!(
                    "Function `range` received {key}={v} but `{key}` can only be a whole number"
                ))
            }),
        }
    };
    let start = number("start", Some(0))?;
    let end = number("end", None)?;
    let step = number("step_by", Some(1))?;
    if step == 0 {
        return Err(tera::Error::msg(
            "Function `range` needs step_by of at least 1",
        ));
    }
    if start > end {
        return Err(tera::Error::msg(
            "Function `range` was called with a `start` argument greater than the `end` one",
        ));
    }
    let count = (end - start).div_ceil(step);
    if count > MAX_RANGE {
        return Err(tera::Error::msg(format!(
            "Function `range` would make {count} items; ttm templates allow at most {MAX_RANGE}"
        )));
    }
    Ok(Value::Array(
        (start..end).step_by(step).map(Value::from).collect(),
    ))
}

/// A Python literal of a value: a string quoted and escaped, a number as
/// it is, `True`/`False`, `None`.
fn python_literal(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(match value {
        Value::String(s) => format!("\"{}\"", escape_python(s)),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => {
            return Err(tera::Error::msg(format!(
                "the filter `python` takes a string, a number, a boolean or null, not {other}"
            )))
        }
    }))
}

/// The inside of a Python string literal: safe between `"""` and `"""` too.
fn python_text(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Value::String(escape_python(&text)))
}

fn escape_python(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32 & 0xff)),
            c => out.push(c),
        }
    }
    out
}

/// What a template or macro reaches while it renders.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Template(String),
    Macro(String, String),
}

impl Part {
    fn describe(&self) -> String {
        match self {
            Part::Template(t) => t.clone(),
            Part::Macro(t, m) => format!("{t}: macro {m}"),
        }
    }

    fn template(&self) -> &str {
        match self {
            Part::Template(t) | Part::Macro(t, _) => t,
        }
    }
}

/// A cycle of includes, imports, extends or macro calls, if there is one:
/// (the template it starts in, "a → b → a").
pub fn find_recursion(tera: &tera::Tera) -> Option<(String, String)> {
    let mut edges: BTreeMap<Part, BTreeSet<Part>> = BTreeMap::new();
    for (name, template) in &tera.templates {
        let mut reach = BTreeSet::new();
        walk_nodes(tera, name, &template.ast, &mut reach);
        if let Some(parent) = &template.parent {
            reach.insert(Part::Template(parent.clone()));
        }
        for (file, _) in &template.imported_macro_files {
            reach.insert(Part::Template(file.clone()));
        }
        edges.insert(Part::Template(name.clone()), reach);
        for (macro_name, definition) in &template.macros {
            let mut reach = BTreeSet::new();
            walk_nodes(tera, name, &definition.body, &mut reach);
            edges.insert(Part::Macro(name.clone(), macro_name.clone()), reach);
        }
    }
    // Depth-first, with the path kept; iterative so that a long chain cannot
    // overflow the stack either.
    let mut done: BTreeSet<Part> = BTreeSet::new();
    for start in edges.keys() {
        if done.contains(start) {
            continue;
        }
        let mut path: Vec<Part> = vec![start.clone()];
        let mut next: Vec<Vec<Part>> = vec![edges[start].iter().cloned().collect()];
        while let Some(children) = next.last_mut() {
            match children.pop() {
                Some(child) => {
                    if let Some(at) = path.iter().position(|p| *p == child) {
                        let mut cycle: Vec<String> =
                            path[at..].iter().map(Part::describe).collect();
                        cycle.push(child.describe());
                        return Some((child.template().to_owned(), cycle.join(" → ")));
                    }
                    if done.contains(&child) {
                        continue;
                    }
                    let grandchildren = edges
                        .get(&child)
                        .map(|e| e.iter().cloned().collect())
                        .unwrap_or_default();
                    path.push(child);
                    next.push(grandchildren);
                }
                None => {
                    next.pop();
                    if let Some(p) = path.pop() {
                        done.insert(p);
                    }
                }
            }
        }
    }
    None
}

fn walk_nodes(tera: &tera::Tera, template: &str, nodes: &[Node], reach: &mut BTreeSet<Part>) {
    for node in nodes {
        match node {
            Node::VariableBlock(_, e) => walk_expr(tera, template, e, reach),
            Node::Include(_, names, _) => {
                reach.extend(names.iter().map(|n| Part::Template(n.clone())));
            }
            Node::Extends(_, parent) => {
                reach.insert(Part::Template(parent.clone()));
            }
            Node::ImportMacro(_, file, _) => {
                reach.insert(Part::Template(file.clone()));
            }
            Node::Set(_, set) => walk_expr(tera, template, &set.value, reach),
            Node::FilterSection(_, section, _) => {
                for e in section.filter.args.values() {
                    walk_expr(tera, template, e, reach);
                }
                walk_nodes(tera, template, &section.body, reach);
            }
            Node::Block(_, block, _) => walk_nodes(tera, template, &block.body, reach),
            Node::Forloop(_, forloop, _) => {
                walk_expr(tera, template, &forloop.container, reach);
                walk_nodes(tera, template, &forloop.body, reach);
                if let Some(empty) = &forloop.empty_body {
                    walk_nodes(tera, template, empty, reach);
                }
            }
            Node::If(branches, _) => {
                for (_, condition, body) in &branches.conditions {
                    walk_expr(tera, template, condition, reach);
                    walk_nodes(tera, template, body, reach);
                }
                if let Some((_, body)) = &branches.otherwise {
                    walk_nodes(tera, template, body, reach);
                }
            }
            // Macro bodies are walked as macros, from `Template::macros`.
            Node::MacroDefinition(..)
            | Node::Super
            | Node::Text(_)
            | Node::Raw(..)
            | Node::Break(_)
            | Node::Continue(_)
            | Node::Comment(..) => {}
        }
    }
}

fn walk_expr(tera: &tera::Tera, template: &str, expr: &Expr, reach: &mut BTreeSet<Part>) {
    walk_value(tera, template, &expr.val, reach);
    for filter in &expr.filters {
        for e in filter.args.values() {
            walk_expr(tera, template, e, reach);
        }
    }
}

fn walk_value(tera: &tera::Tera, template: &str, val: &ExprVal, reach: &mut BTreeSet<Part>) {
    match val {
        ExprVal::MacroCall(call) => {
            let file = if call.namespace == "self" {
                Some(template.to_owned())
            } else {
                tera.templates.get(template).and_then(|t| {
                    t.imported_macro_files
                        .iter()
                        .find(|(_, ns)| *ns == call.namespace)
                        .map(|(file, _)| file.clone())
                })
            };
            if let Some(file) = file {
                reach.insert(Part::Macro(file, call.name.clone()));
            }
            for e in call.args.values() {
                walk_expr(tera, template, e, reach);
            }
        }
        ExprVal::FunctionCall(call) => {
            for e in call.args.values() {
                walk_expr(tera, template, e, reach);
            }
        }
        ExprVal::Math(m) => {
            walk_expr(tera, template, &m.lhs, reach);
            walk_expr(tera, template, &m.rhs, reach);
        }
        ExprVal::Logic(l) => {
            walk_expr(tera, template, &l.lhs, reach);
            walk_expr(tera, template, &l.rhs, reach);
        }
        ExprVal::In(i) => {
            walk_expr(tera, template, &i.lhs, reach);
            walk_expr(tera, template, &i.rhs, reach);
        }
        ExprVal::Test(t) => {
            for e in &t.args {
                walk_expr(tera, template, e, reach);
            }
        }
        ExprVal::Array(items) => {
            for e in items {
                walk_expr(tera, template, e, reach);
            }
        }
        ExprVal::StringConcat(concat) => {
            for v in &concat.values {
                walk_value(tera, template, v, reach);
            }
        }
        ExprVal::String(_)
        | ExprVal::Int(_)
        | ExprVal::Float(_)
        | ExprVal::Bool(_)
        | ExprVal::Ident(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tera_of(files: &[(&str, &str)]) -> tera::Tera {
        let mut t = tera();
        t.add_raw_templates(files.iter().copied()).unwrap();
        t
    }

    #[test]
    fn recursion_of_every_kind_is_found() {
        for (files, starts_in) in [
            (vec![("main.py", "{% include \"main.py\" %}")], "main.py"),
            (
                vec![("a", "{% include \"b\" %}"), ("b", "x{% include \"a\" %}")],
                "a",
            ),
            (
                vec![
                    ("main.py", "{% import \"m\" as m %}{{ m::f(n=1) }}"),
                    ("m", "{% macro f(n) %}{{ self::f(n=n) }}{% endmacro f %}"),
                ],
                "m",
            ),
            (
                vec![
                    ("m", "{% macro f() %}{% if true %}{{ self::g() | upper }}{% endif %}{% endmacro f %}{% macro g() %}{{ 1 + self::f() }}{% endmacro g %}"),
                ],
                "m",
            ),
            (
                vec![
                    ("a", "{% import \"b\" as b %}"),
                    ("b", "{% import \"a\" as a %}"),
                ],
                "a",
            ),
        ] {
            let t = tera_of(&files);
            let (template, cycle) = find_recursion(&t).expect("a cycle");
            assert!(
                cycle.contains(" → ") && files.iter().any(|(n, _)| *n == template),
                "{template}: {cycle}"
            );
            let _ = starts_in;
        }
    }

    #[test]
    fn templates_without_recursion_pass() {
        let t = tera_of(&[
            (
                "main.py",
                "{% import \"m\" as m %}{% include \"part\" %}{{ m::f() }}",
            ),
            ("part", "{% for i in range(end=3) %}{{ i }}{% endfor %}"),
            (
                "m",
                "{% macro f() %}{{ self::g() }}{% endmacro f %}{% macro g() %}g{% endmacro g %}",
            ),
        ]);
        assert_eq!(find_recursion(&t), None);
        assert_eq!(t.render("part", &tera::Context::new()).unwrap(), "012");
    }

    #[test]
    fn get_env_and_a_huge_range_are_refused() {
        let t = tera_of(&[
            ("env", "{{ get_env(name=\"HOME\") }}"),
            ("range", "{% for i in range(end=200000000) %}{% endfor %}"),
        ]);
        for name in ["env", "range"] {
            let err = t.render(name, &tera::Context::new()).unwrap_err();
            let chain = format!("{:?}", err);
            assert!(
                chain.contains("get_env is turned off") || chain.contains("at most 10000"),
                "{chain}"
            );
        }
    }

    #[test]
    fn python_filters_make_literals() {
        let mut ctx = tera::Context::new();
        ctx.insert("t", "x\"\"\"\nimport os\\");
        ctx.insert("n", &5);
        let t = tera_of(&[(
            "p",
            "{{ t | python }} {{ n | python }} \"\"\"{{ t | python_text }}\"\"\"",
        )]);
        assert_eq!(
            t.render("p", &ctx).unwrap(),
            r#""x\"\"\"\nimport os\\" 5 """x\"\"\"\nimport os\\""""#
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Any template text either fails to parse, is refused for recursion,
        /// or renders: never a panic, never a stack overflow.
        #[test]
        fn any_template_is_refused_or_renders(
            a in "(\\{% include \"[ab]\" %\\}|\\{\\{ self::f\\(\\) \\}\\}|\\{% macro f\\(\\) %\\}|\\{% endmacro f %\\}|\\{% import \"[ab]\" as m %\\}|\\{\\{ m::f\\(\\) \\}\\}|x|\\{\\{ range\\(end=[0-9]{1,9}\\) \\| length \\}\\}){0,6}",
            b in "(\\{% include \"[ab]\" %\\}|\\{% macro f\\(\\) %\\}x\\{\\{ self::f\\(\\) \\}\\}\\{% endmacro f %\\}|\\{% import \"a\" as m %\\}|y){0,4}",
        ) {
            let mut t = tera();
            if t.add_raw_templates(vec![("a", a.as_str()), ("b", b.as_str())]).is_ok()
                && find_recursion(&t).is_none()
            {
                let _ = t.render("a", &tera::Context::new());
                let _ = t.render("b", &tera::Context::new());
            }
        }
    }
}

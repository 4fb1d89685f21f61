//! Requests and limits, and the Kubernetes quantities they are written in.

use super::Checker;
use crate::config::defaults::{ResourceDefaults, resolve_resources};
use crate::config::model::Resources;
use crate::config::units::{parse_quantity, quantity_hint};

pub(super) fn quantity(
    c: &mut Checker<'_>,
    path: &[&str],
    value: &str,
    zero_ok: bool,
) -> Option<f64> {
    match parse_quantity(value) {
        Some(q) if q > 0.0 || (zero_ok && q == 0.0) => Some(q),
        Some(_) => {
            c.value(
                path,
                format!("`{value}` must be more than zero"),
                "e.g. 1Gi",
            );
            None
        }
        None => {
            c.value(
                path,
                format!("`{value}` is not a Kubernetes quantity"),
                quantity_hint(value),
            );
            None
        }
    }
}

pub(super) fn resources(
    c: &mut Checker<'_>,
    path: &[&str],
    res: &Resources,
    defaults: &ResourceDefaults,
) {
    let fields = [
        ("requests", "cpu", &res.requests.cpu),
        ("requests", "memory", &res.requests.memory),
        ("limits", "cpu", &res.limits.cpu),
        ("limits", "memory", &res.limits.memory),
    ];
    let mut valid = true;
    for (group, kind, value) in fields {
        if let Some(v) = value {
            let mut p = path.to_vec();
            p.extend([group, kind]);
            valid &= quantity(c, &p, v, false).is_some();
        }
    }
    if !valid {
        return;
    }
    // What is rendered: each unset value takes its default.
    let resolved = resolve_resources(res, defaults);
    for (kind, request_set) in [
        ("cpu", res.requests.cpu.is_some()),
        ("memory", res.requests.memory.is_some()),
    ] {
        let get = |m: &std::collections::BTreeMap<String, String>| {
            m.get(kind).cloned().unwrap_or_default()
        };
        let (request, limit) = (get(&resolved.requests), get(&resolved.limits));
        let (Some(r), Some(l)) = (parse_quantity(&request), parse_quantity(&limit)) else {
            continue;
        };
        if r <= l {
            continue;
        }
        let at = path.join(".");
        if request_set {
            let mut p = path.to_vec();
            p.extend(["requests", kind]);
            c.value(
                &p,
                format!("the {kind} request {request} is above its limit {limit}"),
                format!("raise {at}.limits.{kind} or lower the request"),
            );
        } else {
            let mut p = path.to_vec();
            p.extend(["limits", kind]);
            c.value(
                &p,
                format!("the {kind} limit {limit} is below the default {kind} request {request}"),
                format!("also set {at}.requests.{kind}, to {limit} or less"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::tests::problems;

    #[test]
    fn a_limit_below_the_default_request_is_an_error() {
        let found = problems("postgres:\n  resources: {limits: {memory: 256Mi}}\n");
        assert!(
            found[0].starts_with("postgres.resources.limits.memory: the memory limit 256Mi is below the default memory request 512Mi"),
            "{found:?}"
        );
        let found = problems(
            "postgres:\n  resources: {limits: {memory: 256Mi}, requests: {memory: 256Mi}}\n",
        );
        assert_eq!(found, Vec::<String>::new());
    }
}

//! Arguments and return values that are neither `Serialize` nor `Debug`.
use agent_trace::traced;

struct Opaque(u8);

#[derive(Debug)]
struct DebugOnly {
    _v: u8,
}

#[derive(serde::Serialize)]
struct SerializeOnly {
    v: u8,
}

#[traced]
fn opaque(o: Opaque, d: DebugOnly, s: SerializeOnly, f: fn(u8) -> u8) -> Opaque {
    Opaque(f(o.0) + s.v + d._v)
}

#[traced]
async fn opaque_async(o: Opaque, closure: Box<dyn Fn() -> u8 + Send>) -> Result<Opaque, Opaque> {
    Ok(Opaque(o.0 + closure()))
}

fn main() {
    let r = opaque(
        Opaque(1),
        DebugOnly { _v: 1 },
        SerializeOnly { v: 1 },
        |x| x,
    );
    assert_eq!(r.0, 3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = rt.block_on(opaque_async(Opaque(1), Box::new(|| 1)));
    assert_eq!(r.ok().unwrap().0, 2);
}

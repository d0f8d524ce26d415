use weld_component_macro::{ComponentType, Lift, Lower};

#[derive(ComponentType, Lift, Lower)]
struct Pair<T> {
    first: T,
    second: T,
}

fn main() {}

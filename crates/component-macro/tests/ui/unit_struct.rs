use weld_component_macro::ComponentType;

#[derive(ComponentType)]
struct Nothing;

fn main() {}

use weld_component_macro::ComponentType;

#[derive(ComponentType)]
#[component(record)]
enum Level {
    Low,
}

fn main() {}

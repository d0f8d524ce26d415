use weld_component_macro::ComponentType;

#[derive(ComponentType)]
#[component(enum)]
enum Level {
    Low = 1,
    High = 10,
}

fn main() {}

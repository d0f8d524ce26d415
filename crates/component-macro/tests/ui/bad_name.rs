use weld_component_macro::ComponentType;

#[derive(ComponentType)]
struct Person {
    #[component(name = "first_name")]
    first_name: String,
}

fn main() {}

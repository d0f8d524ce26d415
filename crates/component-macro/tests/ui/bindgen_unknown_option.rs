weld_component_macro::bindgen!({
    inline: "package a:b; world w {}",
    async: true,
});

fn main() {}

//! The adapter module being built: its types, its imports (requested while code is generated,
//! each described by an [`AdapterImport`]), its functions and exports, and the encoding of all
//! that into a core wasm binary. It knows nothing of the canonical ABI.

use std::collections::HashMap;
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType, ImportSection,
    MemoryType, Module, TypeSection, ValType,
};
use weld_environ::component::adapt::AdapterImport;

/// A core function signature.
pub(crate) type Signature = (Vec<ValType>, Vec<ValType>);

/// The module under construction.
#[derive(Default)]
pub(crate) struct ModuleBuilder {
    types: Vec<Signature>,
    type_index: HashMap<Signature, u32>,
    imports: Vec<(AdapterImport, EntityType)>,
    import_index: HashMap<AdapterImport, u32>,
    num_func_imports: u32,
    num_memory_imports: u32,
    num_global_imports: u32,
    funcs: Vec<(u32, Function)>,
    exports: Vec<(String, u32)>,
}

impl ModuleBuilder {
    /// The index of a function type, added on first use.
    pub(crate) fn type_index(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let sig = (params.to_vec(), results.to_vec());
        if let Some(i) = self.type_index.get(&sig) {
            return *i;
        }
        let i = self.types.len() as u32;
        self.types.push(sig.clone());
        self.type_index.insert(sig, i);
        i
    }

    /// The function index of an imported function, imported on first use.
    pub(crate) fn import_func(&mut self, import: AdapterImport, params: &[ValType], results: &[ValType]) -> u32 {
        if let Some(i) = self.import_index.get(&import) {
            return *i;
        }
        let ty = self.type_index(params, results);
        let i = self.num_func_imports;
        self.num_func_imports += 1;
        self.add_import(import, EntityType::Function(ty), i)
    }

    /// The memory index of an imported memory, imported on first use.
    pub(crate) fn import_memory(&mut self, import: AdapterImport, memory64: bool) -> u32 {
        if let Some(i) = self.import_index.get(&import) {
            return *i;
        }
        let ty = MemoryType { minimum: 0, maximum: None, memory64, shared: false, page_size_log2: None };
        let i = self.num_memory_imports;
        self.num_memory_imports += 1;
        self.add_import(import, EntityType::Memory(ty), i)
    }

    /// The global index of an imported mutable global of type `val_type`, imported on first
    /// use.
    pub(crate) fn import_global(&mut self, import: AdapterImport, val_type: ValType) -> u32 {
        if let Some(i) = self.import_index.get(&import) {
            return *i;
        }
        let ty = GlobalType { val_type, mutable: true, shared: false };
        let i = self.num_global_imports;
        self.num_global_imports += 1;
        self.add_import(import, EntityType::Global(ty), i)
    }

    fn add_import(&mut self, import: AdapterImport, ty: EntityType, index: u32) -> u32 {
        self.import_index.insert(import.clone(), index);
        self.imports.push((import, ty));
        index
    }

    /// Adds a function with body `body` and type `ty`, exported as `name`.
    pub(crate) fn add_exported_func(&mut self, name: String, ty: u32, body: Function) {
        let defined = self.funcs.len() as u32;
        self.funcs.push((ty, body));
        self.exports.push((name, defined));
    }

    /// The binary, and what each import is, in import order.
    pub(crate) fn finish(self) -> (Vec<u8>, Vec<AdapterImport>) {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        for (params, results) in &self.types {
            types.ty().function(params.iter().copied(), results.iter().copied());
        }
        module.section(&types);
        let mut imports = ImportSection::new();
        for (i, (_, ty)) in self.imports.iter().enumerate() {
            imports.import("adapter", &format!("import{i}"), *ty);
        }
        module.section(&imports);
        let mut funcs = FunctionSection::new();
        for (ty, _) in &self.funcs {
            funcs.function(*ty);
        }
        module.section(&funcs);
        let mut exports = ExportSection::new();
        for (name, defined) in &self.exports {
            exports.export(name, ExportKind::Func, self.num_func_imports + defined);
        }
        module.section(&exports);
        let mut code = CodeSection::new();
        for (_, body) in &self.funcs {
            code.function(body);
        }
        module.section(&code);
        (module.finish(), self.imports.into_iter().map(|(i, _)| i).collect())
    }
}

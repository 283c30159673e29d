import { loadSpec } from '/work/main/src/contracts/spec-load.ts';
import { Contract } from '/work/main/src/contracts/contract.ts';
for (let i = 0; i < 3; i++) {
  let t = performance.now(); const spec = await loadSpec('/tmp/scratch/spec200.json'); const l = performance.now() - t;
  t = performance.now(); new Contract(spec); console.log('loadSpec', Math.round(l), 'compile', Math.round(performance.now() - t));
}

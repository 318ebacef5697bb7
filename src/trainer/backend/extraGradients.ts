import {
  add,
  BatchMatMul,
  div,
  Equal,
  GatherNd,
  GatherV2,
  getGradient,
  Greater,
  GreaterEqual,
  Less,
  LessEqual,
  matMul,
  Mean,
  mul,
  NotEqual,
  ones,
  onesLike,
  range,
  registerGradient,
  reshape,
  scatterND,
  Sum,
  sum,
  unsortedSegmentSum,
  util,
  zerosLike,
  type BatchMatMulAttrs,
  type GatherV2Attrs,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor1D,
} from '@tensorflow/tfjs-core';

// Gradients tfjs-core 4.22 lacks, gets wrong or makes slow, registered for every backend. They must go in
// after tfjs-core's own (which would overwrite the BatchMatMul one), and again if something
// re-registers those, as @tensorflow/tfjs (pulled in by tfjs-node) does; calling
// registerExtraGradients() again restores them.

const gatherNdGrad: GradConfig = {
  kernelName: GatherNd,
  inputsToSave: ['params', 'indices'],
  // Picking target log-probs with gatherND is common; scatterND sums duplicate indices,
  // which is exactly the adjoint of gathering the same element twice.
  gradFunc: (dy, saved) => {
    const [params, indices] = saved as [Tensor, Tensor];
    return {
      params: () => scatterND(indices, dy as Tensor, params.shape),
      indices: () => zerosLike(indices),
    };
  },
};

// As in TensorFlow, comparisons are not differentiable: their gradient is zero. Without this,
// `where(greater(x, 0), x, y)` cannot be differentiated with respect to x at all.
const comparisonGrads: GradConfig[] = [Greater, GreaterEqual, Less, LessEqual, Equal, NotEqual].map((kernelName) => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy, saved) => {
    const [a, b] = saved as [Tensor, Tensor];
    return { a: () => zerosLike(a), b: () => zerosLike(b) };
  },
}));

const ours = new Set<GradConfig>();

export function registerExtraGradients(): void {
  for (const config of [gatherNdGrad, ...comparisonGrads]) {
    // Only where missing: a later tfjs may ship its own.
    if ((getGradient(config.kernelName) as GradConfig | undefined) == null) register(config);
  }
  const matMulGrad = getGradient(BatchMatMul) as GradConfig | undefined;
  const gatherGrad = getGradient(GatherV2) as GradConfig | undefined;
  if (matMulGrad == null || gatherGrad == null) throw new Error('register tfjs-core gradients before the extra ones');
  if (!ours.has(matMulGrad)) register(broadcastingBatchMatMulGrad(matMulGrad));
  if (!ours.has(gatherGrad)) register(batchedGatherGrad(gatherGrad));
  for (const [kernelName, config] of reductionGrads) if (!ours.has(getGradient(kernelName) as GradConfig)) register(config);
}

function register(config: GradConfig): void {
  ours.add(config);
  registerGradient(config);
}

/**
 * tfjs-core's BatchMatMul gradient ignores broadcasting, so `matMul(x[B,T,K], w[K,N])` cannot be
 * differentiated with respect to w ("gradient of input 'b' has shape B,K,N"). This wraps it:
 * broadcast batch dimensions are summed away, and when only `a` has batch dimensions the
 * weight gradient is one matMul over the flattened rows instead of B matMuls plus a sum.
 */
function broadcastingBatchMatMulGrad(original: GradConfig): GradConfig {
  return {
    kernelName: BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap): ReturnType<GradConfig['gradFunc']> => {
      const [a, b] = saved as [Tensor, Tensor];
      const g = dy as Tensor;
      const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
      if (!transposeA && batchSize(b) === 1 && batchSize(a) > 1) {
        const k = a.shape[a.rank - 1]!;
        const n = g.shape[g.rank - 1]!;
        return {
          a: () => sumToShape(transposeB ? matMul(g, b, false, false) : matMul(g, b, false, true), a.shape),
          b: () => {
            const rowsA = reshape(a, [-1, k]);
            const rowsDy = reshape(g, [-1, n]);
            const grad = transposeB ? matMul(rowsDy, rowsA, true, false) : matMul(rowsA, rowsDy, true, false);
            return reshape(grad, b.shape);
          },
        };
      }
      const grads = original.gradFunc(dy, saved, attrs);
      return {
        a: () => sumToShape(grads.a!(), a.shape),
        b: () => sumToShape(grads.b!(), b.shape),
      };
    },
  };
}

/**
 * tfjs-core's GatherV2 gradient handles batchDims 0 and 1 only, and batchDims 1 by splitting the
 * batch into one gather gradient per row (thousands of kernels for [B*T, vocab] log-probs).
 * When the gathered axis directly follows the batch axes (`gather(logp[B,T,V], targets[B,T,1],
 * 2, 2)`, the target-log-prob pattern) the rows are made globally unique with an offset and the
 * whole gradient is one UnsortedSegmentSum. Other shapes keep tf's gradient.
 */
function batchedGatherGrad(original: GradConfig): GradConfig {
  return {
    kernelName: GatherV2,
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap): ReturnType<GradConfig['gradFunc']> => {
      const [x, indices] = saved as [Tensor, Tensor];
      const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
      const gatherAxis = axis < 0 ? axis + x.rank : axis;
      const batchAxes = batchDims < 0 ? batchDims + indices.rank : batchDims;
      if (batchAxes < 1 || gatherAxis !== batchAxes) return original.gradFunc(dy, saved, attrs);
      return {
        x: () => {
          const rows = x.shape.slice(0, batchAxes).reduce((p, d) => p * d, 1);
          const width = x.shape[batchAxes]!;
          const trailing = x.shape.slice(batchAxes + 1);
          const perRow = indices.size / rows;
          const offsets = reshape(range(0, rows * width, width, 'int32'), [rows, 1]);
          const globalIds = reshape(add(reshape(indices, [rows, perRow]), offsets), [-1]) as Tensor1D;
          const values = reshape(dy as Tensor, [rows * perRow, ...trailing]);
          return reshape(unsortedSegmentSum(values, globalIds, rows * width), x.shape);
        },
        indices: () => indices,
      };
    },
  };
}

/**
 * Sum and Mean: tf's gradients broadcast dy by multiplying it with `ones(x.shape)`, a tensor
 * filled in JavaScript and copied into the backend on every call (2 ms for [4, 256, 256] on
 * wasm, per RMSNorm per step). onesLike is filled by the backend itself. Same values: dy (over
 * the reduced size, for Mean) times one.
 */
function reductionGrad(kernelName: string, mean: boolean): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x] = saved as [Tensor];
      const axes = util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
      const expandedShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const reduceSize = axes.reduce((p, a) => p * x.shape[a]!, 1);
      return {
        x: () => {
          const expanded = reshape(dy as Tensor, expandedShape);
          return mul(mean ? div(expanded, reduceSize) : expanded, x.dtype === 'float32' ? onesLike(x) : ones(x.shape, 'float32'));
        },
      };
    },
  };
}

const reductionGrads: Array<[string, GradConfig]> = [
  [Sum, reductionGrad(Sum, false)],
  [Mean, reductionGrad(Mean, true)],
];

function batchSize(t: Tensor): number {
  return t.shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

/** Sums a broadcast gradient back down to the shape of the input it belongs to. */
export function sumToShape(grad: Tensor, shape: readonly number[]): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  return reshape(axes.length > 0 ? sum(grad, axes) : grad, [...shape]);
}

/** The part of ml-cart 2.1 (mljs, no bundled types) that the regime model uses. */
declare module 'ml-cart' {
  export interface DecisionTreeOptions {
    gainFunction?: 'gini';
    splitFunction?: 'mean';
    /** A node with at most this many rows becomes a leaf. */
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }
  /** A trained node: a split (left: value < splitValue) when `left` and `right` are set, else a leaf. */
  export interface CartNode {
    splitColumn?: number;
    splitValue?: number;
    left?: CartNode;
    right?: CartNode;
  }
  export class DecisionTreeClassifier {
    constructor(options?: DecisionTreeOptions);
    root: CartNode;
    train(trainingSet: number[][], trainingLabels: number[]): void;
    predict(toPredict: number[][]): number[];
  }
}

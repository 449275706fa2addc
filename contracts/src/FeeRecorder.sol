// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20Min} from "./IERC20Min.sol";

/// @title FeeRecorder: a service-fee contract WITHOUT custody.
/// @notice Emits the same DepositServiceFee / WithdrawServiceFee events as ServiceFee (and
///         AethirCore), but never holds the tokens: a deposit is paid straight to a treasury,
///         and a withdrawal is paid back by the treasury (which approves this contract). The
///         contract's own token balance therefore never moves with its events: a balance
///         reconciliation of it must fail, and only another kind of evidence (the events read
///         again from a second endpoint) can check an index of it.
contract FeeRecorder {
    IERC20Min public immutable token;
    address public immutable treasury;

    mapping(address => uint256) public recorded;
    mapping(address => uint64) public nonces;

    event DepositServiceFee(address indexed developer, uint64 nonce, uint256 amount);
    event WithdrawServiceFee(address indexed developer, uint64 nonce, uint256 amount);

    error ZeroAmount();
    error ZeroAddress();
    error InsufficientBalance(address developer, uint256 balance, uint256 needed);
    error TransferFailed();

    constructor(IERC20Min token_, address treasury_) {
        if (treasury_ == address(0)) revert ZeroAddress();
        token = token_;
        treasury = treasury_;
    }

    /// @dev Log order: the token's Transfer (developer -> treasury), then DepositServiceFee.
    function depositServiceFee(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (!token.transferFrom(msg.sender, treasury, amount)) revert TransferFailed();
        recorded[msg.sender] += amount;
        uint64 nonce = nonces[msg.sender]++;
        emit DepositServiceFee(msg.sender, nonce, amount);
    }

    /// @dev Log order: the token's Transfer (treasury -> developer), then WithdrawServiceFee.
    function withdrawServiceFee(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 bal = recorded[msg.sender];
        if (bal < amount) revert InsufficientBalance(msg.sender, bal, amount);
        unchecked {
            recorded[msg.sender] = bal - amount;
        }
        uint64 nonce = nonces[msg.sender]++;
        if (!token.transferFrom(treasury, msg.sender, amount)) revert TransferFailed();
        emit WithdrawServiceFee(msg.sender, nonce, amount);
    }
}
